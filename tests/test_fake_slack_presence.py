"""The fake Slack's presence reads answer the real slack_sdk client in Slack's documented shapes:
`dnd.info` (Do Not Disturb window and snooze), `users.profile.get` (status and huddle) and
`conversations.open` (the IM), with `user_not_found` for unknown people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])


async def test_dnd_info_shapes(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.presence.set_dnd("U1", 1_800_000_000, 1_800_003_600)
    answer = await client.dnd_info(user="U1")
    assert answer["ok"] is True and answer["dnd_enabled"] is True
    assert (answer["next_dnd_start_ts"], answer["next_dnd_end_ts"]) == (
        1_800_000_000,
        1_800_003_600,
    )
    assert answer["snooze_enabled"] is False
    slack.presence.set_snooze("U1", 1_800_000_600)
    answer = await client.dnd_info(user="U1")
    assert answer["snooze_enabled"] is True and answer["snooze_endtime"] == 1_800_000_600
    assert isinstance(answer["snooze_remaining"], int)
    slack.missing_users.add("U404")
    with pytest.raises(SlackApiError) as error:
        await client.dnd_info(user="U404")
    assert error.value.response["error"] == "user_not_found"


async def test_users_profile_get_shapes(slack: FakeSlack, client: AsyncWebClient) -> None:
    profile = (await client.users_profile_get(user="U1"))["profile"]
    assert (profile["status_text"], profile["status_emoji"], profile["status_expiration"]) == (
        "",
        "",
        0,
    )
    assert profile["huddle_state"] == "default_unset"
    slack.presence.set_status("U1", "In a meeting", ":calendar:", expiration=1_800_000_000)
    slack.presence.set_huddle("U1", True)
    profile = (await client.users_profile_get(user="U1"))["profile"]
    assert (profile["status_text"], profile["status_emoji"]) == ("In a meeting", ":calendar:")
    assert profile["status_expiration"] == 1_800_000_000
    assert profile["huddle_state"] == "in_a_huddle"
    with pytest.raises(SlackApiError) as error:
        await client.users_profile_get(user="")
    assert error.value.response["error"] == "user_not_found"


async def test_conversations_open_gives_the_same_im_each_time(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.conversations_open(users="U1")
    again = await client.conversations_open(users="U1")
    assert first["channel"]["id"] == again["channel"]["id"] == slack.surfaces.ims["U1"]
    assert again["already_open"] is True
