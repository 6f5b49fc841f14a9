"""`stretchbot` as users and operators run it: the real console script in a subprocess.

The bot talks to a FakeSlack on 127.0.0.1 (SLACK_API_URL); the tests talk to the bot the way
Slack does (signed HTTP requests, or Socket Mode envelopes over the fake's websocket).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import schedules
from bot.commands import REGISTRY
from bot.commands.schedule import ScheduleCommand
from bot.ports import ChannelKey, ChannelState
from storage.engine import create_engine, run_migrations
from storage.sql import SqlStorage
from tests.e2e.conftest import (
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL,
    SECRET,
    TEAM,
    USER,
    BotFactory,
    BotProcess,
    SlackClient,
    eventually,
    http_mode_env,
    nonempty_lines,
    run_cli,
    socket_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import Call, FakeSlack

pytestmark = pytest.mark.e2e

SCHEDULE = "every 45m 09:00-17:00 weekdays"
SLACK_ACK_LIMIT = 3.0  # Slack gives up on a request after 3 s


def has_done_button(call: Call) -> bool:
    blocks = call.params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return any(
        element.get("action_id") == "stretch_done"
        for block in blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    )


def nudges_to(slack: FakeSlack, channel: str) -> list[Call]:
    return [
        call
        for call in slack.calls_to("chat.postMessage")
        if call.params.get("channel") == channel and call.status == 200 and has_done_button(call)
    ]


async def wait_for_nudge(slack: FakeSlack, channel: str = CHANNEL, count: int = 1) -> Call:
    """The `count`-th successful nudge (chat.postMessage with the Done button) to `channel`."""
    found = await eventually(
        lambda: len(nudges_to(slack, channel)) >= count and nudges_to(slack, channel),
        what=f"nudge #{count} posted to {channel}; calls: {[c.method for c in slack.calls]}",
    )
    call: Call = found[count - 1]
    assert call.response.get("ok") is True, call.response
    assert call.token == BOT_TOKEN
    return call


def board_posts(slack: FakeSlack, channel: str = CHANNEL) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in slack.calls_to("chat.postMessage")
        if call.params.get("channel") == channel
        and call.status == 200
        and "leaderboard" in str(call.params.get("text", "")).lower()
    ]


def sqlite_file_exists(url: str) -> bool:
    return Path(url.removeprefix("sqlite+aiosqlite:///")).exists()


async def stop_cleanly(bot: BotProcess) -> None:
    """Nothing crashed so far; then SIGTERM → exit code 0 within 10 s."""
    assert "Traceback" not in bot.stderr(), bot.describe()
    code = await bot.terminate(timeout=10.0)
    assert code == 0, bot.describe()


# ---------------------------------------------------------------------------------------------
# HTTP mode


async def test_http_mode_commands_reactions_and_leaderboard(
    start_bot: BotFactory, slack: FakeSlack, slack_client: SlackClient, sqlite_url: str
) -> None:
    bot = await start_bot(http_mode_env(slack, sqlite_url))

    # `/stretch`: acked at once, then a nudge with the Done button lands in the channel.
    reply, _ = await slack_client.command(bot, "")
    assert reply.status == 200, reply.text
    assert reply.elapsed < SLACK_ACK_LIMIT, reply
    nudge = await wait_for_nudge(slack)
    nudge_ts = str(nudge.response["ts"])

    # A schedule is announced in the channel through the response_url.
    reply, name = await slack_client.command(bot, SCHEDULE)
    assert reply.status == 200, reply.text
    assert reply.elapsed < SLACK_ACK_LIMIT, reply
    announced = await slack_client.response(name)
    assert announced.get("response_type") == "in_channel", announced
    assert f"<@{USER}>" in announced["text"], announced
    assert "every 45 minutes" in announced["text"], announced
    assert "Europe/Berlin" in announced["text"], announced  # the typist's users.info tz

    # `/stretch status` answers only the person who asked, in the ack itself.
    reply, name = await slack_client.command(bot, "status")
    assert reply.status == 200, reply.text
    assert reply.elapsed < SLACK_ACK_LIMIT, reply
    status = payloads.ack_answer(reply.text)
    assert status is not None, reply
    assert status.get("response_type") == "ephemeral", status
    assert "every 45 minutes" in status["text"], status
    assert "Next nudges" in status["text"], status

    # ✅ on the nudge counts a break …
    reply = await slack_client.event(
        bot,
        payloads.reaction_added_event(
            user=USER, reaction="white_check_mark", channel=CHANNEL, ts=nudge_ts
        ),
    )
    assert reply.status == 200, reply.text
    assert reply.elapsed < SLACK_ACK_LIMIT, reply

    # … which the leaderboard shows. The event is processed after its ack, so ask (bounded)
    # until the board is posted; before that the bot answers "no breaks yet" ephemerally.
    async def board() -> list[str]:
        if not board_posts(slack):
            asked, name = await slack_client.command(bot, "leaderboard")
            assert asked.status == 200, asked.text
            await eventually(
                lambda: board_posts(slack) or slack_client.responded(name),
                what="a leaderboard post or a 'no breaks yet' reply",
            )
        return board_posts(slack)

    boards = await eventually(board, timeout=10.0, interval=0.1, what="a leaderboard post")
    assert re.search(rf"^1\. <@{USER}> 1 break\b", boards[-1], re.MULTILINE), boards[-1]

    await stop_cleanly(bot)


async def test_http_mode_rejects_bad_requests_and_stays_up(
    start_bot: BotFactory,
    slack: FakeSlack,
    slack_client: SlackClient,
    http: aiohttp.ClientSession,
    sqlite_url: str,
) -> None:
    bot = await start_bot(http_mode_env(slack, sqlite_url))
    command = payloads.slash_command_body(text="", team_id=TEAM, channel_id=CHANNEL)

    # Wrong signing secret: 401, and nothing reaches Slack.
    reply = await slack_client.post(bot, command, secret="not-the-secret")
    assert reply.status == 401, reply
    # Signed, but the interactivity payload is not JSON.
    reply = await slack_client.post(bot, "payload=%7Bnot json")
    assert 400 <= reply.status < 500, reply
    # Signed JSON that is not an object.
    reply = await slack_client.post(bot, "[1,2]", content_type="application/json")
    assert 400 <= reply.status < 500, reply

    assert not slack.calls_to("chat.postMessage"), slack.calls
    async with http.get(f"{bot.base_url}/healthz") as resp:
        assert resp.status == 200, await resp.text()
    assert bot.returncode is None, bot.describe()

    # And a proper request still works after all that.
    reply, _ = await slack_client.command(bot, "now")
    assert reply.status == 200, reply.text
    await wait_for_nudge(slack)

    await stop_cleanly(bot)


async def test_schedule_survives_restart(
    start_bot: BotFactory, slack: FakeSlack, slack_client: SlackClient, sqlite_url: str
) -> None:
    env = http_mode_env(slack, sqlite_url)
    first = await start_bot(env)
    reply, name = await slack_client.command(first, SCHEDULE)
    assert reply.status == 200, reply.text
    await slack_client.response(name)
    reply, name = await slack_client.command(first, "status")
    assert reply.status == 200, reply.text
    before = (await slack_client.answer(reply, name))["text"]
    assert "every 45 minutes" in before, before
    await stop_cleanly(first)

    second = await start_bot(env)  # same SQLite file, fresh process, new port
    reply, name = await slack_client.command(second, "status")
    assert reply.status == 200, reply.text
    after = (await slack_client.answer(reply, name))["text"]
    assert "Next nudges" in after, after
    assert after.splitlines()[0] == before.splitlines()[0], (before, after)
    await stop_cleanly(second)


async def seed_overdue_schedule(sqlite_url: str) -> None:
    """Migrate the database and schedule CHANNEL with a slot that fell due minutes ago."""
    engine = create_engine(sqlite_url)
    try:
        await run_migrations(engine)
        command = REGISTRY.parse("every 15m 00:00-23:59 daily tz UTC")
        assert isinstance(command, ScheduleCommand), command
        spec = command.to_spec("UTC")
        now = datetime.now(UTC)
        *_, overdue = schedules.slots_between(spec, now - timedelta(hours=1), now)
        await SqlStorage(engine).channels.save(
            ChannelState(
                key=ChannelKey("slack", TEAM, CHANNEL),
                spec=spec,
                enabled=True,
                weekly_board=False,
                next_slot_at=overdue,
            )
        )
    finally:
        await engine.dispose()


async def test_sigterm_lets_a_scheduled_post_under_way_finish(
    start_bot: BotFactory, slack: FakeSlack, sqlite_url: str
) -> None:
    """SIGTERM while a scheduled nudge is on its way to Slack: the pass finishes, the nudge is
    recorded as posted (so ✅ on it counts), and the process still exits 0 within 10 s."""
    await seed_overdue_schedule(sqlite_url)
    slack.latency = 1.5  # keeps the scheduler's chat.postMessage in flight
    env = {**http_mode_env(slack, sqlite_url), "NUDGE_GRACE_MINUTES": "60"}
    bot = await start_bot(env)

    engine = create_engine(sqlite_url)
    try:
        storage = SqlStorage(engine)
        key = ChannelKey("slack", TEAM, CHANNEL)
        # The first scheduler pass claims the overdue slot, then posts it (slowly). Wait until
        # the post has reached Slack: a claim not yet sending is given back on SIGTERM instead
        # (README: posts under way finish, unposted claims are released).
        await eventually(
            lambda: slack.max_in_flight.get("chat.postMessage", 0) >= 1,
            timeout=10.0,
            interval=0.02,
            what="the scheduler's post of the overdue slot to reach Slack",
        )
        assert not slack.calls_to("chat.postMessage")  # still in flight
        code = await bot.terminate(timeout=10.0)
        assert code == 0, bot.describe()
        # The bot has exited, so whatever it got an answer for is recorded by now.
        posts = slack.calls_to("chat.postMessage")
        assert len(posts) == 1, f"the claimed nudge was never posted\n{bot.describe()}"
        [post] = posts
        assert post.status == 200 and post.response.get("ok"), post.response
        nudge = await storage.nudges.find_by_message(channel=key, message_id=post.response["ts"])
        assert nudge is not None, f"the posted nudge was never recorded\n{bot.describe()}"
        assert "Traceback" not in bot.stderr(), bot.describe()
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Socket Mode


async def test_socket_mode_command_and_event(
    start_bot: BotFactory, slack: FakeSlack, http: aiohttp.ClientSession, sqlite_url: str
) -> None:
    bot = await start_bot(socket_mode_env(slack, sqlite_url))
    await slack.wait_for_socket_client()
    [connect] = slack.calls_to("apps.connections.open")
    assert connect.token == APP_TOKEN

    envelope = await slack.send_envelope(
        "slash_commands",
        payloads.slash_command_payload(
            text="", team_id=TEAM, channel_id=CHANNEL, response_url=slack.response_url("s1")
        ),
    )
    await slack.wait_for_ack(envelope)
    nudge = await wait_for_nudge(slack)

    envelope = await slack.send_envelope(
        "events_api",
        payloads.event_callback(
            payloads.reaction_added_event(
                user=USER,
                reaction="white_check_mark",
                channel=CHANNEL,
                ts=str(nudge.response["ts"]),
            ),
            team_id=TEAM,
        ),
    )
    await slack.wait_for_ack(envelope)

    # The reaction counted: the leaderboard (asked for over the socket too) shows it.
    asks = 0

    async def board() -> list[str]:
        nonlocal asks
        if not board_posts(slack):
            asks += 1
            name = f"board{asks}"
            asked = await slack.send_envelope(
                "slash_commands",
                payloads.slash_command_payload(
                    text="leaderboard",
                    team_id=TEAM,
                    channel_id=CHANNEL,
                    response_url=slack.response_url(name),
                ),
            )
            await slack.wait_for_ack(asked)
            await eventually(
                lambda: board_posts(slack) or any(r.name == name for r in slack.responses),
                what="a leaderboard post or a 'no breaks yet' reply",
            )
        return board_posts(slack)

    boards = await eventually(board, timeout=10.0, interval=0.1, what="a leaderboard post")
    assert re.search(rf"^1\. <@{USER}> 1 break\b", boards[-1], re.MULTILINE), boards[-1]

    async with http.get(f"{bot.base_url}/healthz") as resp:
        assert resp.status == 200, await resp.text()
    assert slack.socket_connections == 1  # one steady connection, no reconnect churn

    await stop_cleanly(bot)


# ---------------------------------------------------------------------------------------------
# Configuration


CONFIG_ERRORS = {
    "missing bot token": ({"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN", "xoxb-"),
    "malformed database url": ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL", "sqlite+aiosqlite"),
    "app token not xapp": ({"SLACK_APP_TOKEN": "xoxp-123"}, "SLACK_APP_TOKEN", "xapp-"),
    # Neither Socket Mode nor HTTP mode set up: the quick start's missing piece is named first,
    # and the line says how HTTP mode would work instead.
    "a bot token alone": (
        {"SLACK_SIGNING_SECRET": None},
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
    ),
}


@pytest.mark.parametrize(
    ("change", "setting", "fix"), CONFIG_ERRORS.values(), ids=list(CONFIG_ERRORS)
)
async def test_bad_setting_stops_with_one_clear_line(
    start_bot: BotFactory,
    slack: FakeSlack,
    sqlite_url: str,
    change: dict[str, str | None],
    setting: str,
    fix: str,
) -> None:
    bot = await start_bot({**http_mode_env(slack, sqlite_url), **change}, wait=False)
    code = await bot.wait_exit(timeout=10.0)
    assert code != 0, bot.describe()
    lines = nonempty_lines(bot.stderr())
    assert len(lines) == 1, bot.describe()
    [line] = lines
    assert setting in line, line
    assert fix in line, line
    assert re.search(r"\b(set|use)\b", line), line  # says how to fix it
    assert not slack.calls, slack.calls  # gave up before talking to Slack
    assert not sqlite_file_exists(sqlite_url)  # stopped before touching the database


async def test_dotenv_in_working_directory_is_read(
    start_bot: BotFactory,
    slack: FakeSlack,
    slack_client: SlackClient,
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    (tmp_path / ".env").write_text(
        "# written by the e2e test\n"
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\n"
        f"SLACK_SIGNING_SECRET={SECRET}\n"
        f"SLACK_API_URL={slack.api_url}\n"
        f"DATABASE_URL={sqlite_url}\n",
        encoding="utf-8",
    )
    bot = await start_bot({})  # no SLACK_* in the environment at all
    assert not any(name.startswith("SLACK_") for name in bot.env)

    reply, _ = await slack_client.command(bot, "now")
    assert reply.status == 200, reply.text  # so the .env signing secret is in effect
    [post] = await slack.wait_for("chat.postMessage")
    assert post.token == "xoxb-from-dotenv"
    assert sqlite_file_exists(sqlite_url)  # DATABASE_URL came from .env too
    await stop_cleanly(bot)


# ---------------------------------------------------------------------------------------------
# Short-lived commands


def test_preview_prints_one_iso_time_per_slot(tmp_path: Path) -> None:
    result = run_cli(
        "preview",
        SCHEDULE,
        "--tz",
        "Europe/Berlin",
        "--start",
        "2026-11-23",
        "--days",
        "1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result
    expected = [
        f"2026-11-23T{hh_mm}:00+01:00"
        for hh_mm in (
            "09:45", "10:30", "11:15", "12:00", "12:45",
            "13:30", "14:15", "15:00", "15:45", "16:30",
        )
    ]  # fmt: skip
    assert result.stdout.splitlines() == expected, result.stdout
    assert result.stderr == "", result.stderr


@pytest.mark.parametrize("text", ["every 3m", "every banana", "sometimes"])
def test_preview_rejects_bad_schedule_text(tmp_path: Path, text: str) -> None:
    result = run_cli("preview", text, "--tz", "Europe/Berlin", cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == "", result.stdout
    lines = nonempty_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stretchbot: "), lines
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_schema_and_prints_revision(tmp_path: Path) -> None:
    db = tmp_path / "upgrade.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    result = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0, result
    match = re.search(r"revision (\S+)", result.stdout)
    assert match and match.group(1) != "None", result.stdout
    assert db.exists()

    # Running it again is a no-op, and `db current` agrees.
    again = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    assert again.returncode == 0, again
    assert again.stdout == result.stdout
    current = run_cli("db", "current", cwd=tmp_path, env=env)
    assert current.returncode == 0, current
    assert current.stdout.startswith(match.group(1)), current.stdout
    assert "up to date" in current.stdout, current.stdout
