"""The fake Slack's surfaces answer the real slack_sdk client the way Slack documents: views
over Block Kit's limits are refused with `invalid_arguments` and `response_metadata.messages`,
triggers work once within 3 s, users.conversations pages with a cursor, 429s carry Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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


def home(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


MODAL = {
    "type": "modal",
    "callback_id": "x",
    "title": {"type": "plain_text", "text": "Settings"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "when",
            "label": {"type": "plain_text", "text": "When"},
            "element": {"type": "timepicker", "action_id": "when", "initial_time": "09:00"},
        }
    ],
}


async def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        await call
    return dict(raised.value.response.data)  # type: ignore[arg-type]


async def test_views_publish_stores_the_home_view(slack: FakeSlack, client: AsyncWebClient) -> None:
    answer = await client.views_publish(user_id="U1", view=home([section("hi")]))
    assert answer["view"]["type"] == "home" and answer["view"]["id"].startswith("V")
    again = await client.views_publish(user_id="U1", view=home([section("again")]))
    assert again["view"]["id"] == answer["view"]["id"]  # one Home view per person
    assert slack.surfaces.home_of("U1")["blocks"] == [section("again")]  # type: ignore[index]
    stale = await refusal(
        client.views_publish(user_id="U1", view=home([section("x")]), hash=answer["view"]["hash"])
    )
    assert stale["error"] == "hash_conflict"


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([section("x")] * 101, "[ERROR] must be less than 101 items [json-pointer:/view/blocks]"),
        (
            [section("x" * 3001)],
            "must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button("a"), button("a")]}],
            "duplicate action_id 'a' [json-pointer:/view/blocks/0/elements/1/action_id]",
        ),
        (
            [{"type": "actions", "elements": [button("a", "x" * 76)]}],
            "must be less than 76 characters [json-pointer:/view/blocks/0/elements/0/text/text]",
        ),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "must be plain_text"),
    ],
)
async def test_views_over_block_kits_limits_are_refused(
    client: AsyncWebClient, blocks: list[dict[str, Any]], message: str
) -> None:
    answer = await refusal(client.views_publish(user_id="U1", view=home(blocks)))
    assert answer["error"] == "invalid_arguments"
    assert any(message in line for line in answer["response_metadata"]["messages"]), answer


async def test_views_open_takes_a_trigger_once_within_three_seconds(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    trigger = slack.surfaces.issue_trigger("U1")
    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    assert slack.surfaces.modal_of("U1") == opened["view"]
    assert (await refusal(client.views_open(trigger_id=trigger, view=MODAL)))["error"] == (
        "exchanged_trigger_id"
    )
    old = slack.surfaces.issue_trigger("U1", age=3.5)
    assert (await refusal(client.views_open(trigger_id=old, view=MODAL)))["error"] == (
        "expired_trigger_id"
    )
    assert (await refusal(client.views_open(trigger_id="nope", view=MODAL)))["error"] == (
        "invalid_trigger_id"
    )
    untitled = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    answer = await refusal(
        client.views_open(trigger_id=slack.surfaces.issue_trigger(), view=untitled)
    )
    assert "[json-pointer:/view/title/text]" in answer["response_metadata"]["messages"][0]


async def test_views_update_by_id_and_its_errors(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=slack.surfaces.issue_trigger("U1"), view=MODAL)
    view_id = opened["view"]["id"]
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Saved"}}
    updated = await client.views_update(view_id=view_id, view=changed)
    assert updated["view"]["title"]["text"] == "Saved" and updated["view"]["id"] == view_id
    assert (await refusal(client.views_update(view_id="V404", view=MODAL)))["error"] == "not_found"
    stale = await refusal(client.views_update(view_id=view_id, view=MODAL, hash="1.0"))
    assert stale["error"] == "hash_conflict"


async def test_users_conversations_pages_with_a_cursor(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    for n in range(7):
        slack.add_channel(f"C{n}", member=True)
    slack.add_channel("G1", private=True, member=True)
    slack.add_channel("G2", private=True)  # the bot is not in it: never listed for others
    slack.add_channel("C9", archived=True, member=True)
    slack.surfaces.join("U1", "C0", "C2", "C4", "C6", "G1", "G2", "C9")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        answer = await client.users_conversations(
            user="U1",
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=2,
            cursor=cursor,
        )
        pages += 1
        seen += [channel["id"] for channel in answer["channels"]]
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ["C0", "C2", "C4", "C6", "G1"] and pages == 3
    public = await client.users_conversations(user="U1", limit=999)
    assert [c["id"] for c in public["channels"]] == ["C0", "C2", "C4", "C6", "C9"]
    assert (await refusal(client.users_conversations(user="U1", limit=1000)))["error"] == (
        "invalid_limit"
    )
    assert (await refusal(client.users_conversations(user="U1", cursor="!!")))["error"] == (
        "invalid_cursor"
    )


async def test_a_429_carries_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit("users.conversations", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client.users_conversations(user="U1")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


async def test_conversations_open_and_posting_to_a_user_reach_the_dm(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.conversations_open(users="U1")
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    again = await client.conversations_open(users="U1")
    assert again["channel"]["id"] == dm and again["already_open"] is True
    posted = await client.chat_postMessage(channel="U1", text="hello")
    assert posted["channel"] == dm and slack.messages_in(dm)[0]["text"] == "hello"
    slack.missing_users.add("U404")
    assert (await refusal(client.conversations_open(users="U404")))["error"] == "user_not_found"
