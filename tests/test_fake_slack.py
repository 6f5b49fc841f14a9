"""The fake Slack behaves like Slack for the real slack_sdk / Bolt clients."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import slack_payloads as payloads
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-test"
SIGNING_SECRET = "s3cr3t"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def web_client(slack: FakeSlack, token: str | None = BOT_TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(base_url=slack.api_url, token=token, **kwargs)


# -- Web API: success shapes -------------------------------------------------------------------


async def test_post_message_returns_ts_and_is_recorded(slack: FakeSlack) -> None:
    slack.add_channel("C0001", name="general", member=True)
    client = web_client(slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Heel lifts x10"}}]

    first = await client.chat_postMessage(channel="C0001", text="Time to move!", blocks=blocks)
    second = await client.chat_postMessage(channel="C0001", text="Again")

    assert first["ok"] is True
    assert first["channel"] == "C0001"
    assert first["ts"] == "1700000000.000100"
    assert first["message"]["text"] == "Time to move!"
    assert first["message"]["blocks"] == blocks
    assert first["message"]["bot_id"] == "BBOT"
    assert float(second["ts"]) > float(first["ts"])
    [call, _] = await slack.wait_for("chat.postMessage", count=2)
    assert call.token == BOT_TOKEN
    assert call.content_type == "application/json"
    assert call.params["channel"] == "C0001"
    assert call.params["blocks"] == blocks
    assert [m["ts"] for m in slack.messages_in("C0001")] == [first["ts"], second["ts"]]


async def test_form_encoded_call_with_token_param(slack: FakeSlack) -> None:
    client = web_client(slack, token=None)
    response = await client.api_call("auth.test", data={"token": BOT_TOKEN, "extra": "1"})
    assert response["user_id"] == "UBOT"
    [call] = slack.calls_to("auth.test")
    assert call.token == BOT_TOKEN
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["extra"] == "1"


async def test_auth_test_shape_and_scopes_header(slack: FakeSlack) -> None:
    response = await web_client(slack).auth_test()
    assert response.data == {
        "ok": True,
        "url": "https://stretchers.slack.com/",
        "team": "Stretchers",
        "user": "stretchbot",
        "team_id": "T0001",
        "user_id": "UBOT",
        "bot_id": "BBOT",
        "is_enterprise_install": False,
    }
    assert "chat:write" in response.headers["x-oauth-scopes"].split(",")


async def test_auth_test_is_configurable() -> None:
    async with FakeSlack(team_id="T9", bot_user_id="U9BOT", bot_id="B9") as slack:
        response = await web_client(slack).auth_test()
    assert (response["team_id"], response["user_id"], response["bot_id"]) == ("T9", "U9BOT", "B9")


async def test_join_then_post_and_already_in_channel(slack: FakeSlack) -> None:
    slack.add_channel("C0001", name="general")
    client = web_client(slack)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0001", text="hi")
    assert raised.value.response["error"] == "not_in_channel"

    joined = await client.conversations_join(channel="C0001")
    assert joined["channel"]["id"] == "C0001"
    assert "warning" not in joined
    await client.chat_postMessage(channel="C0001", text="hi")

    again = await client.conversations_join(channel="C0001")
    assert again["ok"] is True
    assert again["warning"] == "already_in_channel"
    assert again["response_metadata"]["warnings"] == ["already_in_channel"]


async def test_conversations_info_and_users_info(slack: FakeSlack) -> None:
    slack.add_channel("G0001", name="secret", private=True, member=True)
    slack.set_user("U0002", tz="Europe/Berlin", is_admin=True)
    client = web_client(slack)

    channel = (await client.conversations_info(channel="G0001"))["channel"]
    assert (channel["is_private"], channel["is_member"], channel["is_archived"]) == (
        True,
        True,
        False,
    )
    default_user = (await client.users_info(user="U0001"))["user"]
    assert default_user["tz"] == "America/New_York"
    assert default_user["tz_label"] in ("Eastern Standard Time", "Eastern Daylight Time")
    assert default_user["tz_offset"] in (-18000, -14400)
    assert default_user["is_admin"] is False
    berlin = (await client.users_info(user="U0002"))["user"]
    assert (berlin["tz"], berlin["is_admin"], berlin["is_owner"]) == ("Europe/Berlin", True, False)

    slack.missing_users.add("U0404")
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0404")
    assert raised.value.response["error"] == "user_not_found"


async def test_update_ephemeral_and_reactions(slack: FakeSlack) -> None:
    slack.add_channel("C0001", member=True)
    client = web_client(slack)
    posted = await client.chat_postMessage(channel="C0001", text="nudge")

    updated = await client.chat_update(channel="C0001", ts=posted["ts"], text="nudge (done)")
    assert updated["ts"] == posted["ts"]
    assert slack.find_message("C0001", posted["ts"])["text"] == "nudge (done)"  # type: ignore[index]
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0001", ts="1.000001", text="x")
    assert raised.value.response["error"] == "message_not_found"

    ephemeral = await client.chat_postEphemeral(channel="C0001", user="U0001", text="only you")
    assert ephemeral["message_ts"]
    assert slack.ephemerals[0]["user"] == "U0001"

    await client.reactions_add(channel="C0001", timestamp=posted["ts"], name="white_check_mark")
    with pytest.raises(SlackApiError) as raised:
        await client.reactions_add(channel="C0001", timestamp=posted["ts"], name="white_check_mark")
    assert raised.value.response["error"] == "already_reacted"


async def test_oauth_v2_access_and_unknown_method(slack: FakeSlack) -> None:
    client = web_client(slack, token=None)
    installed = await client.oauth_v2_access(client_id="111.222", client_secret="abc", code="c0de")
    assert installed["access_token"].startswith("xoxb-")
    assert installed["team"]["id"] == "T0001"
    assert installed["bot_user_id"] == "UBOT"
    assert slack.calls_to("oauth.v2.access")[0].headers["Authorization"].startswith("Basic ")

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack).api_call("files.teleport")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "unknown_method"


# -- Web API: errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel_kwargs", "error"),
    [
        (None, "channel_not_found"),
        ({"member": False}, "not_in_channel"),
        ({"private": True, "member": False}, "not_in_channel"),
        ({"member": True, "archived": True}, "is_archived"),
    ],
)
async def test_post_message_channel_errors(
    slack: FakeSlack, channel_kwargs: dict[str, Any] | None, error: str
) -> None:
    if channel_kwargs is not None:
        slack.add_channel("C0001", **channel_kwargs)
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack).chat_postMessage(channel="C0001", text="hi")
    assert raised.value.response.status_code == 200
    assert raised.value.response["ok"] is False
    assert raised.value.response["error"] == error
    assert slack.messages_in("C0001") == []


async def test_hide_private_channels_answers_like_slack() -> None:
    async with FakeSlack(hide_private_channels=True) as slack:
        slack.add_channel("G0001", private=True)
        client = web_client(slack)
        for call in (
            client.chat_postMessage(channel="G0001", text="hi"),
            client.conversations_info(channel="G0001"),
        ):
            with pytest.raises(SlackApiError) as raised:
                await call
            assert raised.value.response["error"] == "channel_not_found"


async def test_join_errors(slack: FakeSlack) -> None:
    slack.add_channel("G0001", private=True)
    slack.add_channel("C0002", archived=True)
    client = web_client(slack)
    for channel, error in [
        ("G0001", "method_not_supported_for_channel_type"),
        ("C0002", "is_archived"),
        ("C0404", "channel_not_found"),
    ]:
        with pytest.raises(SlackApiError) as raised:
            await client.conversations_join(channel=channel)
        assert raised.value.response["error"] == error


async def test_invalid_and_wrong_kind_of_tokens(slack: FakeSlack) -> None:
    slack.invalid_tokens.add("xoxb-revoked")
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack, token="xoxb-revoked").auth_test()
    assert raised.value.response["error"] == "invalid_auth"

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack, token=None).auth_test()
    assert raised.value.response["error"] == "not_authed"

    with pytest.raises(SlackApiError) as raised:
        await web_client(slack).apps_connections_open(app_token=BOT_TOKEN)
    assert raised.value.response["error"] == "not_allowed_token_type"

    opened = await web_client(slack).apps_connections_open(app_token=APP_TOKEN)
    assert opened["url"].startswith(slack.socket_url)
    assert slack.calls_to("apps.connections.open")[-1].token == APP_TOKEN


async def test_rate_limit_without_retry_handler_raises_with_retry_after(slack: FakeSlack) -> None:
    slack.add_channel("C0001", member=True)
    slack.rate_limit("chat.postMessage", times=1, retry_after=7)
    client = web_client(slack)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0001", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "7"
    # Only the next `times` calls are limited.
    await client.chat_postMessage(channel="C0001", text="hi")


async def test_rate_limit_is_retried_transparently(slack: FakeSlack) -> None:
    slack.add_channel("C0001", member=True)
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    client = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    started = time.monotonic()
    response = await client.chat_postMessage(channel="C0001", text="hi")
    assert time.monotonic() - started >= 1.0  # the client honoured Retry-After
    assert response["ok"] is True
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(slack.messages_in("C0001")) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retried(slack: FakeSlack, status: int) -> None:
    slack.add_channel("C0001", member=True)
    slack.fail_with_status("chat.postMessage", status=status, times=1)
    fast = FixedValueRetryIntervalCalculator(fixed_internal=0.01)
    client = web_client(
        slack,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=fast)],
    )
    response = await client.chat_postMessage(channel="C0001", text="hi")
    assert response["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [status, 200]

    slack.fail_with_status("chat.postMessage", status=status, times=1)
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack).chat_postMessage(channel="C0001", text="hi")
    assert raised.value.response.status_code == status


async def test_per_channel_limit_and_latency(slack: FakeSlack) -> None:
    slack.add_channel("C0001", member=True)
    slack.add_channel("C0002", member=True)
    slack.per_channel_limit = 1.0
    slack.latency = 0.05
    client = web_client(slack)

    started = time.monotonic()
    await client.chat_postMessage(channel="C0001", text="one")
    assert time.monotonic() - started >= 0.05
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0001", text="two")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="C0002", text="other channel is independent")


async def test_workspace_limit_answers_429_and_records_posts_inside_retry_after(
    slack: FakeSlack,
) -> None:
    for channel in ("C0001", "C0002", "C0003"):
        slack.add_channel(channel, member=True)
    slack.workspace_limit = 2
    slack.token_teams["xoxb-other"] = "T0OTHER"
    client = web_client(slack)  # no retries

    await client.chat_postMessage(channel="C0001", text="one")
    await client.chat_postMessage(channel="C0002", text="two")
    with pytest.raises(SlackApiError) as raised:  # a third within the second, any channel
        await client.chat_postMessage(channel="C0003", text="three")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert slack.posts_in_retry_window == []  # the 429 itself is not inside its window
    with pytest.raises(SlackApiError):  # nor one sent before the client could know of it
        await client.chat_postMessage(channel="C0002", text="in flight")
    assert slack.posts_in_retry_window == []
    await asyncio.sleep(slack.in_flight_allowance)
    with pytest.raises(SlackApiError):  # ... but a post after that, before it has passed, is
        await client.chat_postMessage(channel="C0003", text="too soon")
    assert [(team, channel) for team, channel, _ in slack.posts_in_retry_window] == [
        (slack.team_id, "C0003")
    ]
    # Another workspace has its own limit.
    other = AsyncWebClient(base_url=slack.api_url, token="xoxb-other", retry_handlers=[])
    await other.chat_postMessage(channel="C0001", text="elsewhere")
    await asyncio.sleep(1.05)
    await client.chat_postMessage(channel="C0003", text="after the window")
    assert len(slack.posts_in_retry_window) == 1


async def test_fail_with_error_and_wait_for_timeout(slack: FakeSlack) -> None:
    slack.fail_with_error("users.info", "fatal_error", times=1)
    with pytest.raises(SlackApiError) as raised:
        await web_client(slack).users_info(user="U0001")
    assert raised.value.response["error"] == "fatal_error"
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        await slack.wait_for("chat.postMessage", timeout=0.05)


# -- Socket Mode and response_url --------------------------------------------------------------


async def test_socket_mode_hello_envelope_ack_round_trip(slack: FakeSlack) -> None:
    received: list[dict[str, Any]] = []

    async def on_message(
        client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        received.append(message)

    async def on_request(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        if request.type == "slash_commands":
            await client.send_socket_mode_response(
                SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "on it"})
            )

    client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client(slack))
    client.message_listeners.append(on_message)
    client.socket_mode_request_listeners.append(on_request)
    try:
        await client.connect()
        await slack.wait_for_socket_client(timeout=5)
        command = payloads.slash_command_payload(text="now", response_url=slack.response_url("cmd"))
        envelope_id = await slack.send_envelope(type="slash_commands", payload=command)
        ack = await slack.wait_for_ack(envelope_id, timeout=5)
    finally:
        await client.close()

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "on it"}}
    assert received[0]["type"] == "hello"
    assert received[0]["connection_info"] == {"app_id": "A0001"}
    envelope = received[1]
    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert envelope["payload"]["command"] == "/stretch"
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN


async def test_bolt_app_over_socket_mode_acks_says_and_responds(slack: FakeSlack) -> None:
    slack.add_channel("C0001", name="general", member=True)
    app = AsyncApp(client=web_client(slack))

    @app.command("/stretch")
    async def stretch(ack: Any, say: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await say("Stand up and do 10 heel lifts!")
        await respond(f"you said {command['text']}")

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    try:
        await handler.connect_async()
        envelope_id = await slack.send_envelope(
            type="slash_commands",
            payload=payloads.slash_command_payload(
                text="now", response_url=slack.response_url("cmd")
            ),
        )
        ack = await slack.wait_for_ack(envelope_id)
        [post] = await slack.wait_for("chat.postMessage")
        [response] = await slack.wait_for_response()
    finally:
        await handler.close_async()

    assert ack["envelope_id"] == envelope_id
    assert post.params["channel"] == "C0001"
    assert slack.messages_in("C0001")[0]["text"] == "Stand up and do 10 heel lifts!"
    assert response.name == "cmd"
    assert response.body["text"] == "you said now"
    assert slack.calls_to("auth.test")  # Bolt authorized the request against the fake


async def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(slack.response_url("r1"))
    result = await webhook.send(text="hello", response_type="ephemeral")
    assert result.status_code == 200
    assert json.loads(result.body) == {"ok": True}
    [post] = await slack.wait_for_response(1)
    assert post.name == "r1"
    assert post.body == {"text": "hello", "response_type": "ephemeral"}


async def test_wait_for_wakes_up_on_a_concurrent_call(slack: FakeSlack) -> None:
    waiter = asyncio.create_task(slack.wait_for("auth.test", count=2, timeout=2))
    client = web_client(slack)
    await client.auth_test()
    await asyncio.sleep(0)
    assert not waiter.done()
    await client.auth_test()
    assert len(await waiter) == 2


# -- Payloads and signing ----------------------------------------------------------------------


def test_signed_slash_command_body_verifies() -> None:
    body = payloads.slash_command_body(text="every 45m 09:00-17:00 weekdays", user_id="U0042")
    headers = payloads.signed_headers(SIGNING_SECRET, body)
    verifier = SignatureVerifier(SIGNING_SECRET)

    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace("U0042", "U0666"), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = payloads.signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)

    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    assert list(fields) == [
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
        "user_name", "command", "text", "api_app_id", "is_enterprise_install",
        "response_url", "trigger_id",
    ]  # fmt: skip
    assert fields["text"] == "every 45m 09:00-17:00 weekdays"
    assert fields["command"] == "/stretch"
    assert parse_body(body, headers["Content-Type"]) == fields


def test_event_and_interactivity_bodies_parse_like_bolt() -> None:
    event = payloads.reaction_added_event(
        user="U0001", reaction="white_check_mark", channel="C0001", ts="1700000000.000100"
    )
    body = payloads.event_callback_body(event, team_id="T0001", event_id="Ev123")
    headers = payloads.signed_headers(SIGNING_SECRET, body, retry_num=1)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Slack-Retry-Num"] == "1"
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    parsed = parse_body(body, headers["Content-Type"])
    assert parsed["type"] == "event_callback"
    assert parsed["event_id"] == "Ev123"
    assert parsed["authorizations"][0]["user_id"] == "UBOT"
    assert parsed["event"]["item"] == {
        "type": "message",
        "channel": "C0001",
        "ts": "1700000000.000100",
    }
    assert parsed["event"]["item_user"] == "UBOT"

    actions = payloads.block_actions_body(
        action_id="break_done", value="nudge-1", user_id="U0002", channel_id="C0001",
        message_ts="1700000000.000100", team_id="T0001",
    )  # fmt: skip
    payload = parse_body(actions, "application/x-www-form-urlencoded")
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0001",
        "is_ephemeral": False,
    }
    assert payload["actions"][0]["action_id"] == "break_done"
    assert payload["actions"][0]["value"] == "nudge-1"
    assert payload["actions"][0]["type"] == "button"
    assert payload["user"]["id"] == "U0002"
    assert payload["message"]["ts"] == "1700000000.000100"

    assert json.loads(payloads.url_verification_body("abc")) == {
        "token": payloads.VERIFICATION_TOKEN,
        "challenge": "abc",
        "type": "url_verification",
    }
