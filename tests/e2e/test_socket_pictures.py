"""Socket Mode pictures with the real `stretchbot run`: without PUBLIC_URL the bot uploads a
picture to the workspace once and shows it by its Slack file id in every later nudge, also
after a restart (the id is in the database)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.e2e.conftest import (
    CHANNEL,
    TEAM,
    BotFactory,
    eventually,
    socket_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import Call, FakeSlack

pytestmark = pytest.mark.e2e


def nudges(slack: FakeSlack) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.response.get("ok") and "stretch_done" in str(c.params.get("blocks"))
    ]


def blocks_of(call: Call) -> list[dict]:
    blocks = call.params.get("blocks")
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks or [])


def file_of(call: Call) -> str | None:
    images = [b for b in blocks_of(call) if b.get("type") == "image"]
    if not images:
        return None
    assert images[0]["alt_text"].startswith("Illustration of")
    return str(images[0]["slack_file"]["id"])


def exercise_of(call: Call) -> str:
    return str(blocks_of(call)[-1]["elements"][0]["value"])


async def stretch(slack: FakeSlack, count: int, name: str) -> Call:
    envelope = await slack.send_envelope(
        "slash_commands",
        payloads.slash_command_payload(
            text="", team_id=TEAM, channel_id=CHANNEL, response_url=slack.response_url(name)
        ),
    )
    await slack.wait_for_ack(envelope)
    found = await eventually(
        lambda: len(nudges(slack)) >= count and nudges(slack), what=f"nudge #{count}"
    )
    return found[count - 1]


async def test_socket_mode_uploads_each_picture_once_and_reuses_it(
    start_bot: BotFactory, slack: FakeSlack, http: aiohttp.ClientSession, sqlite_url: str
) -> None:
    env = {**socket_mode_env(slack, sqlite_url), "NOW_COOLDOWN_MINUTES": "0"}
    bot = await start_bot(env)
    await slack.wait_for_socket_client()
    files: dict[str, str] = {}  # exercise key -> file id
    for n in range(1, 7):
        call = await stretch(slack, n, f"s{n}")
        file_id = file_of(call)
        assert file_id is not None, call.params
        files.setdefault(exercise_of(call), file_id)
        assert files[exercise_of(call)] == file_id  # the same exercise always shows the same upload
    uploads = len(slack.calls_to("files.getUploadURLExternal"))
    assert uploads == len(set(files.values())) <= 6
    assert all(u.channel_id is None for u in slack.uploads.values())  # shared nowhere
    assert await bot.terminate() == 0

    # A restart reads the ids from the database: the same pictures are not uploaded again.
    await start_bot(env)
    await slack.wait_for_socket_client()
    call = await stretch(slack, 7, "after-restart")
    assert file_of(call) is not None
    again = len(slack.calls_to("files.getUploadURLExternal"))
    assert again in (uploads, uploads + 1)  # +1 only when a new exercise came up
    if file_of(call) in files.values():
        assert again == uploads
