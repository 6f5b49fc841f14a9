"""The fake Slack (tests/fakes/slack_api.py) in a child process, driven over stdin/stdout.

On a 2-core machine a fake Slack in the benchmark's own event loop eats as much CPU as the code
under test: every figure would measure the fake. In its own process it gets its own core, as the
real Slack would. The parent talks to it with one JSON line per request on stdin and reads one
JSON line per answer on stdout.

Requests (`op`): `config` (latency, per_channel_limit), `limits` (per-method minute limits),
`rate_limit` (method, times, retry_after), `seed_messages` ([channel, ts] pairs),
`edits` (chat.update calls and calls made inside a Retry-After), `message` (one stored
message), `add_channels` (ids, member),
`join` (people in channels), `stats` (messages per channel, calls per method and status,
response_url posts), `publishes` (views.publish calls with their arrival times), `reset`,
`quit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakes.slack_api import FakeSlack

JsonDict = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent


def _stats(slack: FakeSlack) -> JsonDict:
    calls = Counter(f"{c.method} {c.status}" for c in slack.calls)
    per_channel = {channel: len(messages) for channel, messages in slack.messages.items()}
    return {
        "calls": dict(calls),
        "messages": per_channel,
        "responses": len(slack.responses),
        "distinct_responses": len({r.name for r in slack.responses}),
        "response_names": sorted({r.name for r in slack.responses}),
        "response_sample": slack.responses[-1].body if slack.responses else None,
        # Files shared with files.completeUploadExternal, per channel, and their bytes.
        "files": dict(Counter(u.channel_id for u in slack.uploads.values() if u.completed)),
        "file_bytes": sum(len(u.data or b"") for u in slack.uploads.values() if u.completed),
        # Answers that were the per-person command limit's: a benchmark must not measure those.
        "rate_limited_responses": sum(
            "Easy there" in str(r.body.get("text", "")) for r in slack.responses
        ),
    }


def _publishes(slack: FakeSlack) -> list[JsonDict]:
    return [
        {
            "user": call.params.get("user_id"),
            "at": call.received_at,  # the loop's clock: time.monotonic, the same across processes
            "ok": call.status == 200 and call.response.get("ok") is True,
            "blocks": len(
                (slack.surfaces.home_of(str(call.params.get("user_id"))) or {}).get("blocks", [])
            ),
            "error": call.response.get("error"),
        }
        for call in slack.calls_to("views.publish")
    ]


async def _serve(team_id: str) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)  # add_channels: 10,000 ids
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with FakeSlack(team_id=team_id) as slack:
        print(json.dumps({"port": slack.port}), flush=True)
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            answer: JsonDict = {"ok": True}
            if op == "config":
                slack.latency = float(request.get("latency", 0.0))
                limit = request.get("per_channel_limit")
                slack.per_channel_limit = float(limit) if limit else None
            elif op == "limits":  # Slack's per-method minute limits, e.g. {"chat.update": 50}
                slack.per_minute_limits = {k: int(v) for k, v in request["limits"].items()}
            elif op == "rate_limit":  # the next `times` calls of `method` answer 429
                slack.rate_limit(
                    request["method"],
                    times=int(request.get("times", 1)),
                    retry_after=int(request.get("retry_after", 1)),
                )
            elif op == "seed_messages":  # bot messages with known ts, for chat.update
                for channel, ts in request["messages"]:
                    slack.messages.setdefault(channel, []).append(
                        {"type": "message", "user": slack.bot_user_id, "text": "", "ts": ts}
                    )
            elif op == "edits":  # chat.update calls: ts, status, arrival; calls inside 429 waits
                answer = {
                    "edits": [
                        {"ts": c.params.get("ts"), "status": c.status, "at": c.received_at}
                        for c in slack.calls
                        if c.method == "chat.update"
                    ],
                    "unhonoured_429s": dict(slack.unhonoured_429s),
                }
            elif op == "message":  # one stored message
                answer = {"message": slack.find_message(request["channel"], request["ts"])}
            elif op == "add_channels":
                for channel in request["ids"]:
                    slack.add_channel(channel, member=bool(request.get("member", True)))
            elif op == "stats":
                answer = _stats(slack)
            elif op == "join":  # people in channels (users.conversations lists them)
                for user in request["user_ids"]:
                    slack.surfaces.join(user, *request["channel_ids"])
            elif op == "publishes":  # views.publish calls: who, when (monotonic), accepted
                answer = {"publishes": _publishes(slack)}
            elif op == "wait_publishes":  # until the `count`-th views.publish: that one
                count = int(request["count"])
                with contextlib.suppress(AssertionError):
                    await slack.wait_for("views.publish", count, float(request.get("timeout", 30)))
                found = _publishes(slack)
                publish = found[count - 1] if len(found) >= count else None
                if publish is not None:  # the fake's own time on the calls made for it
                    since = found[count - 2]["at"] if count > 1 else 0.0
                    publish["slack_seconds"] = sum(
                        call.answered_at - call.received_at
                        for call in slack.calls
                        if call.method != "views.publish"
                        and since < call.received_at < publish["at"]
                    )
                answer = {"publish": publish}
            elif op == "reset":
                slack.calls.clear()
                slack.messages.clear()
                slack.responses.clear()
                slack.uploads.clear()
                slack._last_post_at.clear()
                slack.unhonoured_429s.clear()
                slack._recent_calls.clear()
                slack._retry_after_until.clear()
            elif op == "quit":
                print(json.dumps(answer), flush=True)
                return
            else:
                answer = {"ok": False, "error": f"unknown op {op}"}
            print(json.dumps(answer), flush=True)


class FakeSlackProcess:
    """Parent side: `async with FakeSlackProcess() as slack: ... slack.api_url ...`."""

    def __init__(self, *, team_id: str = "T0001", start_timeout: float = 20.0) -> None:
        self.team_id = team_id
        self.start_timeout = start_timeout
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/respond/{name}"

    async def __aenter__(self) -> FakeSlackProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fake_proc",
            self.team_id,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,  # so `-m bench.fake_proc` and `tests.fakes` import from any directory
            limit=64 * 1024 * 1024,  # `stats` for 10,000 channels is one long line
        )
        hello = await self._read(self.start_timeout)
        self.port = int(hello["port"])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(Exception):
            await self.request("quit", timeout=5.0)
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def _read(self, timeout: float) -> JsonDict:  # noqa: ASYNC109
        assert self._proc is not None and self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("the fake Slack process exited")
        answer: JsonDict = json.loads(line)
        return answer

    async def request(self, op: str, timeout: float = 60.0, **fields: Any) -> JsonDict:  # noqa: ASYNC109
        assert self._proc is not None and self._proc.stdin is not None
        async with self._lock:
            self._proc.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
            await self._proc.stdin.drain()
            answer = await self._read(timeout)
        if answer.get("ok") is False:
            raise RuntimeError(f"fake Slack refused {op}: {answer.get('error')}")
        return answer

    async def config(self, *, latency: float = 0.0, per_channel_limit: float | None = None) -> None:
        await self.request("config", latency=latency, per_channel_limit=per_channel_limit)

    async def add_channels(self, ids: list[str], *, member: bool = True) -> None:
        await self.request("add_channels", ids=ids, member=member)

    async def stats(self) -> JsonDict:
        return await self.request("stats")

    async def join(self, user_ids: list[str], channel_ids: list[str]) -> None:
        await self.request("join", user_ids=user_ids, channel_ids=channel_ids)

    async def publishes(self) -> list[JsonDict]:
        answer = await self.request("publishes")
        return list(answer["publishes"])

    async def reset(self) -> None:
        await self.request("reset")


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1] if len(sys.argv) > 1 else "T0001"))
