"""Hostile HTTP against the real `stretchbot run` process (OAuth mode, one installed workspace).

Hypothesis throws random bodies, content types, signatures, timestamps and query strings at
POST /slack/events and the OAuth pages. Every answer is 2xx/4xx (never 5xx), the process stays
up, and a rejected request leaves every table of the database exactly as it was.

The bot runs as a subprocess on a SQLite file; the fake Slack runs in a thread with its own event
loop, so these tests can be plain synchronous hypothesis tests with plain HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import itertools
import json
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import clean_environ, free_port, stretchbot_command
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e

SECRET = "hostile-signing-secret"
TEAM = "T0001"
EXAMPLES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
)  # what http.client can put in a header at all


class SlackThread:
    """A FakeSlack served from its own thread and event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.fake: FakeSlack | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with FakeSlack(team_id=TEAM) as fake:
            fake.add_channel("C0001", name="general", member=True)
            fake.add_channel("C0777", name="kept-aside", member=True)  # for the final check
            fake.set_user("U0001", tz="Europe/Berlin")
            self.fake = fake
            self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        assert self.ready.wait(10), "the fake Slack did not start"
        assert self.fake is not None
        return self.fake

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@dataclass
class LiveBot:
    proc: subprocess.Popen[bytes]
    port: int
    database: Path
    slack: FakeSlack

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        source: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection: status, headers (lower-case names), body.
        `source`: the client address (any 127.x.y.z works on Linux loopback)."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=15, source_address=(source, 0) if source else None
        )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def post_events(self, body: bytes, headers: dict[str, str]) -> int:
        return self.request("POST", "/slack/events", body=body, headers=headers)[0]

    def snapshot(self) -> str:
        """A digest of every row of every table (read-only, beside the running bot)."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            tables = [
                name
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            digest = hashlib.sha256()
            for table in tables:
                rows = sorted(repr(row) for row in db.execute(f'SELECT * FROM "{table}"'))
                digest.update(f"{table}:{len(rows)}:{rows}".encode())
        return digest.hexdigest()

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            return False
        status, _, _ = self.request("GET", "/healthz")
        return status == 200


def signed(body: bytes | str, *, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's headers for `body`, signed over its raw bytes (valid UTF-8 or not)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    folder = tmp_path_factory.mktemp("hostile")
    database = folder / "bot.db"
    port = free_port()
    with SlackThread() as slack:
        env = {
            **clean_environ(),
            "SLACK_CLIENT_ID": "1111.2222",
            "SLACK_CLIENT_SECRET": "client-secret",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "STRETCHBOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "COMMANDS_PER_MINUTE": "1000",
        }
        log = (folder / "bot.log").open("wb")
        proc = subprocess.Popen(
            [*stretchbot_command(), "run"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        bot = LiveBot(proc, port, database, slack)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, (folder / "bot.log").read_text()
                try:
                    if bot.alive():
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the bot did not become healthy"
                time.sleep(0.1)
            install(bot)
            yield bot
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def install(bot: LiveBot) -> None:
    """The install round trip over HTTP, so signed requests from T0001 get processed."""
    status, headers, _ = bot.request("GET", "/slack/install")
    assert status == 302, headers
    state = parse_qs(urlsplit(headers["location"]).query)["state"][0]
    status, _, page = bot.request(
        "GET",
        f"/slack/oauth_redirect?code=ok&state={state}",
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    assert status == 200, page


def command_body(text: str = "now", **fields: str) -> str:
    return payloads.slash_command_body(
        text=text, team_id=TEAM, response_url=fields.pop("response_url", "http://127.0.0.1:9/r")
    )


# ---- unsigned, mis-signed and replayed ------------------------------------------------------


@EXAMPLES
@given(
    body=st.binary(max_size=4096),
    content_type=st.one_of(
        st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
        ),
        HEADER_TEXT,
    ),
    signature=st.one_of(st.none(), HEADER_TEXT, st.from_regex(r"\Av0=[0-9a-f]{64}\Z")),
    timestamp=st.one_of(st.none(), HEADER_TEXT, st.integers().map(str)),
)
def test_requests_without_a_valid_signature_are_rejected_and_change_nothing(
    live_bot: LiveBot, body: bytes, content_type: str, signature: str | None, timestamp: str | None
) -> None:
    before = live_bot.snapshot()
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    status = live_bot.post_events(body, headers)
    assert 400 <= status < 500, status
    assert live_bot.snapshot() == before


@EXAMPLES
@given(age=st.one_of(st.integers(301, 10**9), st.integers(-(10**9), -301)))
def test_replayed_or_future_timestamps_are_rejected(live_bot: LiveBot, age: int) -> None:
    before = live_bot.snapshot()
    body = command_body("every 45m")
    headers = signed(
        body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - age
    )
    assert live_bot.post_events(body.encode(), headers) == 401
    assert live_bot.snapshot() == before


# ---- signed, but hostile --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "block_actions", "url_verification", "x"])},
    optional={
        "team_id": st.one_of(st.just(TEAM), st.text(max_size=12)),
        "event": st.dictionaries(
            st.sampled_from(["type", "user", "reaction", "item", "channel", "tokens"]),
            json_values,
            max_size=5,
        ),
        "actions": json_values,
        "authorizations": json_values,
        "challenge": json_values,
    },
)


@EXAMPLES
@given(
    body=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=2048).map(str.encode),
        json_values.map(lambda v: json.dumps(v).encode()),
        event_like.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6).map(
            lambda d: urlencode(d).encode()
        ),
        event_like.map(lambda v: ("payload=" + quote(json.dumps(v))).encode()),
    ),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/x"]
    ),
)
def test_signed_garbage_gets_a_4xx_or_is_ignored_never_a_5xx(
    live_bot: LiveBot, body: bytes, content_type: str
) -> None:
    before = live_bot.snapshot()
    status = live_bot.post_events(body, signed(body, content_type=content_type))
    assert status < 500, (status, body[:200])
    if status >= 400:
        assert live_bot.snapshot() == before


@EXAMPLES
@given(
    text=st.text(max_size=600),
    user=st.one_of(st.just("U0001"), st.text(max_size=40)),
    channel=st.one_of(st.just("C0001"), st.text(max_size=40)),
)
def test_signed_commands_with_hostile_fields_are_acked(
    live_bot: LiveBot, text: str, user: str, channel: str
) -> None:
    fields = payloads.slash_command_payload(
        text=text,
        team_id=TEAM,
        user_id=user,
        channel_id=channel,
        response_url=live_bot.slack.response_url("hostile"),
    )
    body = urlencode(fields)
    status = live_bot.post_events(
        body.encode(), signed(body, content_type="application/x-www-form-urlencoded")
    )
    assert status == 200


def test_huge_requests_are_refused_politely(live_bot: LiveBot) -> None:
    before = live_bot.snapshot()
    huge_text = command_body("x" * 300_000)
    status = live_bot.post_events(
        huge_text.encode(), signed(huge_text, content_type="application/x-www-form-urlencoded")
    )
    assert status < 500
    too_big = b"payload=" + b"A" * (3 * 1024 * 1024)
    status = live_bot.post_events(
        too_big, signed(too_big, content_type="application/x-www-form-urlencoded")
    )
    assert status == 413
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    assert live_bot.post_events(deep, signed(deep, content_type="application/json")) == 400
    assert live_bot.snapshot() == before


# ---- the OAuth pages ------------------------------------------------------------------------


@EXAMPLES
@given(
    query=st.dictionaries(
        st.sampled_from(["code", "state", "error", "team", "x"]) | st.text(max_size=8),
        st.text(max_size=300),
        max_size=5,
    ),
    cookie=st.one_of(st.none(), HEADER_TEXT),
)
def test_hostile_oauth_redirects_fail_cleanly_and_save_nothing(
    live_bot: LiveBot, query: dict[str, str], cookie: str | None
) -> None:
    before = live_bot.snapshot()
    headers = {"Cookie": cookie} if cookie is not None else {}
    status, response_headers, page = live_bot.request(
        "GET", "/slack/oauth_redirect?" + urlencode(query), headers=headers
    )
    assert status < 500, status
    assert b"<script" not in page.lower()
    assert response_headers.get("content-security-policy", "").startswith("default-src 'none'")
    assert live_bot.snapshot() == before


_SOURCES = itertools.count()


@EXAMPLES
@given(team=st.text(max_size=60))
def test_install_link_never_lets_the_query_into_the_authorize_url(
    live_bot: LiveBot, team: str
) -> None:
    # A new client address each time: one address may start only a few installs a minute.
    n = next(_SOURCES)
    source = f"127.0.{n // 250 + 1}.{n % 250 + 1}"
    status, headers, _ = live_bot.request(
        "GET", "/slack/install?" + urlencode({"team": team}), source=source
    )
    assert status == 302
    query = parse_qs(urlsplit(headers["location"]).query)
    assert set(query) <= {"state", "client_id", "scope", "user_scope", "team"}
    assert query.get("team", [None])[0] in (None, team)


def test_after_all_that_the_bot_is_up_and_still_works(live_bot: LiveBot) -> None:
    assert live_bot.alive()
    before = len(live_bot.slack.messages_in("C0777"))
    fields = payloads.slash_command_payload(
        text="now",
        team_id=TEAM,
        channel_id="C0777",
        user_id="U0042",
        response_url=live_bot.slack.response_url("ok"),
    )
    body = urlencode(fields)
    assert (
        live_bot.post_events(
            body.encode(), signed(body, content_type="application/x-www-form-urlencoded")
        )
        == 200
    )
    deadline = time.monotonic() + 10
    while len(live_bot.slack.messages_in("C0777")) == before:
        assert time.monotonic() < deadline, "no nudge after the hostile run"
        time.sleep(0.05)
    assert live_bot.proc.poll() is None
    assert os.path.exists(live_bot.database)
