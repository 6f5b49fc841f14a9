"""The fake Slack's file upload API (files.getUploadURLExternal, the upload URL,
files.completeUploadExternal) behaves like Slack's for slack_sdk and for the bot's uploader."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import PostError
from handlers.slack.uploads import upload_file
from tests.fakes.slack_api import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 100


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_channel("C0001", name="general", member=True)
        fake.add_channel("C0002", name="private", private=True)
        yield fake


def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=slack.api_url, token="xoxb-test")


async def test_the_three_steps_share_a_file_in_a_channel(slack: FakeSlack) -> None:
    web = client(slack)
    ticket = await web.files_getUploadURLExternal(
        filename="week.png", length=len(PNG), alt_txt="a chart"
    )
    assert ticket["ok"] and ticket["file_id"].startswith("F")
    assert ticket["upload_url"].startswith(slack.base_url + "/upload/v1/")
    async with aiohttp.ClientSession() as http, http.post(ticket["upload_url"], data=PNG) as resp:
        assert resp.status == 200 and await resp.text() == f"OK - {len(PNG)}"
    done = await web.files_completeUploadExternal(
        files=[{"id": ticket["file_id"], "title": "Week"}], channel_id="C0001"
    )
    assert done["files"][0]["id"] == ticket["file_id"] and done["files"][0]["title"] == "Week"
    [shared] = slack.files_in("C0001")
    assert (shared.data, shared.alt_txt, shared.title) == (PNG, "a chart", "Week")
    assert slack.messages_in("C0001") == []  # shares are recorded apart from messages


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"filename": "", "length": 10}, "invalid_arguments"),
        ({"filename": "a.png", "length": 0}, "missing_argument"),
        ({"filename": "a.png", "length": 10, "alt_txt": "x" * 1001}, "alt_txt_too_large"),
    ],
)
async def test_get_upload_url_errors(slack: FakeSlack, arguments: dict, error: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(slack).files_getUploadURLExternal(**arguments)
    assert raised.value.response["error"] == error


async def test_complete_errors(slack: FakeSlack) -> None:
    web = client(slack)
    ticket = await web.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    with pytest.raises(SlackApiError) as raised:  # nothing uploaded yet
        await web.files_completeUploadExternal(
            files=[{"id": ticket["file_id"]}], channel_id="C0001"
        )
    assert raised.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as raised:
        await web.api_call("files.completeUploadExternal", params={"files": "not json"})
    assert raised.value.response["error"] == "invalid_arguments"
    async with aiohttp.ClientSession() as http:
        async with http.post(ticket["upload_url"], data=PNG) as resp:
            assert resp.status == 200
        async with http.post(slack.base_url + "/upload/v1/unknown", data=PNG) as resp:
            assert resp.status == 404
    for channel, error in (("C0002", "not_in_channel"), ("C9999", "channel_not_found")):
        with pytest.raises(SlackApiError) as raised:
            await web.files_completeUploadExternal(
                files=[{"id": ticket["file_id"]}], channel_id=channel
            )
        assert raised.value.response["error"] == error
    assert slack.files_in("C0001") == []


async def test_the_bots_uploader_uses_the_three_steps_and_maps_errors(slack: FakeSlack) -> None:
    web = client(slack)
    result = await upload_file(
        web, channel_id="C0001", data=PNG, filename="w.png", title="Week", alt_txt="bars"
    )
    assert result.ok and result.message_id == slack.files_in("C0001")[0].id
    methods = [c.method for c in slack.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    refused = await upload_file(
        web, channel_id="C0002", data=PNG, filename="w.png", title="Week", alt_txt="bars"
    )
    assert refused.error is PostError.NOT_IN_CHANNEL
    slack.revoked_tokens.add("xoxb-test")
    gone = await upload_file(
        web, channel_id="C0001", data=PNG, filename="w.png", title="Week", alt_txt="bars"
    )
    assert gone.error is PostError.AUTH and gone.detail == "token_revoked"


async def test_a_rate_limited_upload_step_is_retried_after_retry_after(slack: FakeSlack) -> None:
    from handlers.slack.chat import make_client

    web = make_client("xoxb-test", base_url=slack.api_url)
    slack.rate_limit("files.completeUploadExternal", retry_after=1)
    result = await upload_file(
        web, channel_id="C0001", data=PNG, filename="w.png", title="Week", alt_txt="bars"
    )
    assert result.ok
    statuses = [c.status for c in slack.calls_to("files.completeUploadExternal")]
    assert statuses == [429, 200]
