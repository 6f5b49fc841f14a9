"""Pictures in nudges, against the fake Slack over HTTP: an `image` block with alt text linked
from PUBLIC_URL and served by the bot itself; none with EXERCISE_PICTURES=off; without a public
address (Socket Mode), each picture uploaded to a workspace once and shown by its file id,
shared by replicas through the database; a picture Slack refuses never costs the nudge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import start
from bot.exercises import CATALOG, find_exercise
from bot.pictures import PICTURES, PictureLinks, served_name
from bot.ports import ChannelKey
from handlers.slack.chat import SlackChat, make_client
from handlers.slack.pictures import SlackPictures
from storage.sql import SqlStorage
from tests.fakes.block_kit import message_problems
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import BotDriver, FakeClock, bot_settings
from tests.scenario.surfaces import answer_in

PUBLIC = "https://stretch.example.com"


@pytest.fixture
async def pictured(
    slack: FakeSlack, clock: FakeClock, sqlite_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[BotDriver]:
    overrides = getattr(request, "param", {"PUBLIC_URL": PUBLIC + "/"})
    runtime = await start(
        bot_settings(slack, sqlite_url, **overrides), clock=clock, scheduler_on=False
    )
    try:
        async with aiohttp.ClientSession() as http:
            yield BotDriver(runtime, slack, clock, http)
    finally:
        await runtime.stop()


def image_of(message: dict) -> dict | None:
    images = [b for b in message.get("blocks") or [] if b["type"] == "image"]
    assert len(images) <= 1
    return images[0] if images else None


def done_value(message: dict) -> str:
    return str(message["blocks"][-1]["elements"][0]["value"])


async def test_nudges_link_the_picture_the_bot_serves(pictured: BotDriver) -> None:
    bot = pictured
    for n in range(4):
        await bot.command("now", user=f"U01{n}", wait_reply=False)
    for message in await answer_in(bot, "C0001", count=4):
        assert message_problems(message) == []
        picture = PICTURES[done_value(message)]
        image = image_of(message)
        assert image is not None
        assert image["image_url"] == f"{PUBLIC}/pictures/{served_name(picture)}"
        assert image["alt_text"] == picture.alt_text
        # The image sits between the exercise and the Done button.
        kinds = [b["type"] for b in message["blocks"]]
        assert kinds.index("image") == 1 and kinds[-1] == "actions"
        # The bot serves it: what Slack fetches from PUBLIC_URL is this server.
        local = f"http://127.0.0.1:{bot.runtime.port}/pictures/{served_name(picture)}"
        async with bot.http.get(local) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/png"
            assert "immutable" in response.headers["Cache-Control"]
            assert await response.read() == picture.png_bytes()
            etag = response.headers["ETag"]
        async with bot.http.get(local, headers={"If-None-Match": etag}) as response:
            assert response.status == 304


@pytest.mark.parametrize(
    "name",
    [
        "heel-lifts.png",
        "heel-lifts-000000000000.png",  # an old drawing's name
        "nope-0123456789ab.png",
        "..%2F..%2Fbot%2Fapp.py",
        "heel-lifts-" + "a" * 500 + ".png",
    ],
)
async def test_only_current_pictures_are_served(pictured: BotDriver, name: str) -> None:
    url = f"http://127.0.0.1:{pictured.runtime.port}/pictures/{name}"
    async with pictured.http.get(url) as response:
        assert response.status == 404


@pytest.mark.parametrize(
    "pictured", [{"PUBLIC_URL": PUBLIC, "EXERCISE_PICTURES": "off"}], indirect=True
)
async def test_pictures_off_means_no_image_and_nothing_served(pictured: BotDriver) -> None:
    await pictured.command("now", wait_reply=False)
    [message] = await answer_in(pictured, "C0001")
    assert image_of(message) is None
    name = served_name(PICTURES["heel-lifts"])
    url = f"http://127.0.0.1:{pictured.runtime.port}/pictures/{name}"
    async with pictured.http.get(url) as response:
        assert response.status == 404


async def test_http_mode_without_public_url_posts_no_builtin_picture(bot: BotDriver) -> None:
    await bot.command("now", wait_reply=False)
    [message] = await answer_in(bot, "C0001")
    assert image_of(message) is None


# ---- Socket Mode: uploaded once per workspace --------------------------------------------------


def uploading_chat(slack: FakeSlack, storage: SqlStorage) -> SlackChat:
    """A replica's Slack chat that uploads pictures (no PUBLIC_URL), remembering them in
    `storage`'s database."""
    client = make_client("xoxb-test", base_url=slack.api_url)

    async def client_for(team_id: str) -> AsyncWebClient:
        return client

    chat = SlackChat(client_for)
    chat.pictures = SlackPictures(PictureLinks(), client_for, files=storage.exercises)  # type: ignore[arg-type]
    return chat


@pytest.fixture
async def files_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id="T0001") as fake:
        fake.add_channel("C0001", name="general", member=True)
        fake.add_channel("C0002", name="random", member=True)
        yield fake


async def test_each_picture_is_uploaded_once_per_workspace_and_shared_by_replicas(
    files_slack: FakeSlack, storage: SqlStorage
) -> None:
    slack = files_slack
    heel_lifts = find_exercise("heel-lifts")
    assert heel_lifts is not None
    first, second = uploading_chat(slack, storage), uploading_chat(slack, storage)
    channels = [ChannelKey("slack", "T0001", c) for c in ("C0001", "C0002")]
    # Ten nudges at once, from two replicas, in two channels: one upload.
    results = await asyncio.gather(
        *(
            chat.post_nudge(channels[n % 2], heel_lifts)
            for n, chat in enumerate([first, second] * 5)
        )
    )
    assert all(r.ok for r in results)
    uploads = slack.calls_to("files.getUploadURLExternal")
    assert len(uploads) <= 2  # each replica may race once; the database keeps one id
    stored = await storage.exercises.picture_file(  # type: ignore[attr-defined]
        team_id="T0001", picture="heel-lifts", version=PICTURES["heel-lifts"].version()
    )
    assert stored is not None
    # The file is the bot's own, shared in no channel, with the picture's alt text.
    upload = slack.uploads[stored]
    assert upload.data == PICTURES["heel-lifts"].png_bytes() and upload.channel_id is None
    assert upload.alt_txt == PICTURES["heel-lifts"].alt_text[:1000]
    # Later nudges, on either replica, reuse it without asking Slack again.
    for chat in (first, second, uploading_chat(slack, storage)):
        assert (await chat.post_nudge(channels[0], heel_lifts)).ok
    assert len(slack.calls_to("files.getUploadURLExternal")) == len(uploads)
    later = slack.messages_in("C0001")[-3:]
    for message in later:
        image = image_of(message)
        assert image is not None and image["slack_file"] == {"id": stored}
        assert image["alt_text"] == PICTURES["heel-lifts"].alt_text
        assert message_problems(message) == []
    # Another exercise is another upload; a custom exercise with its own address none.
    lunges = find_exercise("lunges")
    assert lunges is not None
    await first.post_nudge(channels[0], lunges)
    assert len(slack.calls_to("files.getUploadURLExternal")) == len(uploads) + 1


async def test_a_refused_picture_is_dropped_and_uploaded_again_next_time(
    files_slack: FakeSlack, storage: SqlStorage
) -> None:
    slack = files_slack
    chat = uploading_chat(slack, storage)
    exercise = CATALOG[0]
    channel = ChannelKey("slack", "T0001", "C0001")
    assert (await chat.post_nudge(channel, exercise)).ok
    slack.fail_with_error("chat.postMessage", "invalid_blocks")  # someone deleted the file
    assert (await chat.post_nudge(channel, exercise)).ok
    refused_then_plain = slack.messages_in("C0001")[-1]
    assert image_of(refused_then_plain) is None and "Movement break" in refused_then_plain["text"]
    assert (await chat.post_nudge(channel, exercise)).ok
    assert len(slack.calls_to("files.getUploadURLExternal")) == 2
    assert image_of(slack.messages_in("C0001")[-1]) is not None


async def test_a_failed_upload_posts_the_nudge_without_a_picture_and_waits(
    files_slack: FakeSlack, storage: SqlStorage
) -> None:
    slack = files_slack
    chat = uploading_chat(slack, storage)
    slack.fail_with_error("files.getUploadURLExternal", "ratelimited_forever", times=5)
    channel = ChannelKey("slack", "T0001", "C0001")
    for _ in range(3):
        assert (await chat.post_nudge(channel, CATALOG[0])).ok
    assert [image_of(m) for m in slack.messages_in("C0001")] == [None, None, None]
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1  # not again for a while


def test_every_builtin_picture_has_alt_text_and_is_legible_as_a_thumbnail() -> None:
    from io import BytesIO

    from PIL import Image

    for exercise in CATALOG:
        picture = PICTURES[exercise.key]
        assert 40 < len(picture.alt_text) <= 2000
        with Image.open(BytesIO(picture.png_bytes())) as image:
            # Slack shows image blocks up to 360 px high and scales wide ones to the message
            # width (~500 px on a laptop): a 2:1 picture of 600x300 is shown nearly 1:1, never
            # enlarged; each pose has half the width.
            assert image.size == (600, 300)
            assert image.width / image.height == 2
