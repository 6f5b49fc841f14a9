"""Builders for the requests Slack sends to an app, signed the way Slack signs them.

Shapes follow Slack's documentation:

- slash commands: https://docs.slack.dev/interactivity/implementing-slash-commands
  (an ``application/x-www-form-urlencoded`` body of string fields);
- Events API: https://docs.slack.dev/apis/events-api/ (a JSON ``event_callback`` envelope
  around the event; ``url_verification`` for the handshake);
- interactivity: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
  (a form body with one field, ``payload``, holding the JSON);
- signing: https://docs.slack.dev/authentication/verifying-requests-from-slack
  (``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``), computed with slack_sdk's own
  ``SignatureVerifier`` so the test and the app cannot disagree about the algorithm.

``*_payload`` / ``*_event`` functions return dicts (what Socket Mode carries in an envelope's
``payload``); ``*_body`` functions return the exact HTTP body string for HTTP mode.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

JsonDict = dict[str, Any]

# Slack still sends the deprecated verification token in every payload; apps must not rely on it.
VERIFICATION_TOKEN = "fake-verification-token"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"

_event_numbers = itertools.count(1)


def now_ts() -> str:
    """Current time as a Slack timestamp string (``"1700000000.123456"``)."""
    return f"{time.time():.6f}"


def new_trigger_id() -> str:
    """A trigger_id shaped like Slack's (``"<digits>.<digits>.<hex>"``)."""
    return (
        f"{secrets.randbelow(10**11):011d}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"
    )


def new_event_id() -> str:
    """A unique Events API ``event_id`` (``"Ev"`` + upper-case alphanumerics, as Slack's)."""
    return f"Ev{next(_event_numbers):04d}{secrets.token_hex(4).upper()}"


def signed_headers(
    secret: str,
    body: str,
    *,
    timestamp: int | str | None = None,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, ``v0=`` signature and content type.

    Args:
        secret: The app's signing secret.
        body: The exact request body that will be sent.
        timestamp: Unix seconds; defaults to now (Bolt rejects anything older than 5 minutes).
        content_type: Defaults to JSON for bodies starting with ``{``, else form-encoded.
        retry_num: When set, adds ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` as Slack does
            when it redelivers an event the app did not acknowledge in time.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip().startswith("{") else FORM_CONTENT_TYPE
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


# ---------------------------------------------------------------------------------------------
# Slash commands


def slash_command_payload(
    *,
    text: str = "",
    team_id: str = "T0001",
    team_domain: str = "stretchers",
    channel_id: str = "C0001",
    channel_name: str = "general",
    user_id: str = "U0001",
    user_name: str = "alice",
    command: str = "/stretch",
    api_app_id: str = "A0001",
    response_url: str | None = None,
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
) -> dict[str, str]:
    """The fields of a slash command invocation, all strings, in Slack's order."""
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
    }
    if enterprise_id is not None:
        payload["enterprise_id"] = enterprise_id
        payload["enterprise_name"] = enterprise_name or "Enterprise"
    payload.update(
        {
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url
            or f"https://hooks.slack.com/commands/{team_id}/1234567890/{secrets.token_hex(12)}",
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )
    return payload


def slash_command_body(
    *,
    text: str = "",
    team_id: str = "T0001",
    team_domain: str = "stretchers",
    channel_id: str = "C0001",
    channel_name: str = "general",
    user_id: str = "U0001",
    user_name: str = "alice",
    command: str = "/stretch",
    api_app_id: str = "A0001",
    response_url: str | None = None,
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
) -> str:
    """A slash command request body, form-encoded exactly as Slack posts it."""
    return urlencode(
        slash_command_payload(
            text=text,
            team_id=team_id,
            team_domain=team_domain,
            channel_id=channel_id,
            channel_name=channel_name,
            user_id=user_id,
            user_name=user_name,
            command=command,
            api_app_id=api_app_id,
            response_url=response_url,
            trigger_id=trigger_id,
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
        )
    )


# ---------------------------------------------------------------------------------------------
# Events API


def ack_answer(body: str) -> JsonDict | None:
    """The answer an app put in its ack of a slash command: the HTTP body, a message such as
    ``{"text": ..., "response_type": "ephemeral"}``, which Slack shows like a response_url
    post; None for an empty ack (just an acknowledgment)."""
    if not body:
        return None
    answer = json.loads(body)
    assert isinstance(answer, dict), body
    return answer if answer.get("text") else None


def event_callback(
    event: JsonDict,
    *,
    team_id: str = "T0001",
    event_id: str | None = None,
    api_app_id: str = "A0001",
    event_time: int | None = None,
    bot_user_id: str = "UBOT",
) -> JsonDict:
    """The Events API ``event_callback`` envelope around ``event`` (dict form).

    ``authorizations`` names the installation the event is delivered for (the bot user of
    ``team_id``), as Slack includes it since 2021.
    """
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def event_callback_body(
    event: JsonDict,
    *,
    team_id: str = "T0001",
    event_id: str | None = None,
    api_app_id: str = "A0001",
    event_time: int | None = None,
    bot_user_id: str = "UBOT",
) -> str:
    """The JSON body of an Events API request carrying ``event``."""
    return json.dumps(
        event_callback(
            event,
            team_id=team_id,
            event_id=event_id,
            api_app_id=api_app_id,
            event_time=event_time,
            bot_user_id=bot_user_id,
        )
    )


def url_verification_body(challenge: str) -> str:
    """The JSON body Slack sends once to verify an Events API request URL."""
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    )


def _reaction_event(
    kind: str,
    *,
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str,
    event_ts: str | None,
) -> JsonDict:
    return {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": event_ts or now_ts(),
    }


def reaction_added_event(
    *,
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str = "UBOT",
    event_ts: str | None = None,
) -> JsonDict:
    """A ``reaction_added`` event: ``user`` added ``reaction`` to message ``ts`` in ``channel``."""
    return _reaction_event(
        "reaction_added",
        user=user,
        reaction=reaction,
        channel=channel,
        ts=ts,
        item_user=item_user,
        event_ts=event_ts,
    )


def reaction_removed_event(
    *,
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str = "UBOT",
    event_ts: str | None = None,
) -> JsonDict:
    """A ``reaction_removed`` event, the mirror of :func:`reaction_added_event`."""
    return _reaction_event(
        "reaction_removed",
        user=user,
        reaction=reaction,
        channel=channel,
        ts=ts,
        item_user=item_user,
        event_ts=event_ts,
    )


def channel_archive_event(
    *, channel: str, user: str = "U0001", event_ts: str | None = None
) -> JsonDict:
    """A ``channel_archive`` event (a public channel was archived by ``user``)."""
    return {
        "type": "channel_archive",
        "channel": channel,
        "user": user,
        "is_moving": 0,
        "event_ts": event_ts or now_ts(),
    }


def channel_deleted_event(*, channel: str, event_ts: str | None = None) -> JsonDict:
    """A ``channel_deleted`` event."""
    return {"type": "channel_deleted", "channel": channel, "event_ts": event_ts or now_ts()}


def group_archive_event(*, channel: str, event_ts: str | None = None) -> JsonDict:
    """A ``group_archive`` event (a private channel was archived)."""
    return {"type": "group_archive", "channel": channel, "event_ts": event_ts or now_ts()}


def app_uninstalled_event(*, event_ts: str | None = None) -> JsonDict:
    """An ``app_uninstalled`` event."""
    return {"type": "app_uninstalled", "event_ts": event_ts or now_ts()}


def tokens_revoked_event(
    *, bot: Iterable[str] = (), oauth: Iterable[str] = (), event_ts: str | None = None
) -> JsonDict:
    """A ``tokens_revoked`` event listing the user ids whose bot/user tokens were revoked."""
    return {
        "type": "tokens_revoked",
        "tokens": {"oauth": list(oauth), "bot": list(bot)},
        "event_ts": event_ts or now_ts(),
    }


# ---------------------------------------------------------------------------------------------
# Interactivity


def block_actions_payload(
    *,
    action_id: str,
    value: str,
    user_id: str = "U0001",
    channel_id: str = "C0001",
    message_ts: str,
    team_id: str = "T0001",
    response_url: str | None = None,
    block_id: str = "actions",
    button_text: str = "Done",
    user_name: str = "alice",
    team_domain: str = "stretchers",
    channel_name: str = "general",
    api_app_id: str = "A0001",
    trigger_id: str | None = None,
    action_ts: str | None = None,
    message: JsonDict | None = None,
    ephemeral: bool = False,
) -> JsonDict:
    """A ``block_actions`` payload for a button pressed on a message the bot posted.

    Args:
        message: The message as Slack would echo it back (text, blocks, ...); defaults to a
            minimal bot message with ``ts=message_ts``.
        ephemeral: the button was on an ephemeral message (only the presser saw it).
    """
    echoed: JsonDict = {
        "type": "message",
        "user": "UBOT",
        "bot_id": "BBOT",
        "app_id": api_app_id,
        "text": "",
        "ts": message_ts,
        "team": team_id,
        "blocks": [],
    }
    if message is not None:
        echoed.update(message)
    echoed["ts"] = message_ts
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": echoed,
        "state": {"values": {}},
        "response_url": response_url
        or f"https://hooks.slack.com/actions/{team_id}/1234567890/{secrets.token_hex(12)}",
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts or now_ts(),
            }
        ],
    }


def interactivity_body(payload: JsonDict) -> str:
    """Form-encode an interaction payload the way Slack posts it (``payload=<json>``)."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions_body(
    *,
    action_id: str,
    value: str,
    user_id: str = "U0001",
    channel_id: str = "C0001",
    message_ts: str,
    team_id: str = "T0001",
    response_url: str | None = None,
    block_id: str = "actions",
    button_text: str = "Done",
    user_name: str = "alice",
    team_domain: str = "stretchers",
    channel_name: str = "general",
    api_app_id: str = "A0001",
    trigger_id: str | None = None,
    action_ts: str | None = None,
    message: JsonDict | None = None,
    ephemeral: bool = False,
) -> str:
    """The HTTP body of a ``block_actions`` request (see :func:`block_actions_payload`)."""
    return interactivity_body(
        block_actions_payload(
            action_id=action_id,
            value=value,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            team_id=team_id,
            response_url=response_url,
            block_id=block_id,
            button_text=button_text,
            user_name=user_name,
            team_domain=team_domain,
            channel_name=channel_name,
            api_app_id=api_app_id,
            trigger_id=trigger_id,
            action_ts=action_ts,
            message=message,
            ephemeral=ephemeral,
        )
    )


def overflow_body(
    *,
    action_id: str,
    value: str,
    label: str = "Option",
    user_id: str = "U0001",
    channel_id: str = "C0001",
    message_ts: str,
    team_id: str = "T0001",
    response_url: str | None = None,
    block_id: str = "actions",
) -> str:
    """The HTTP body of a ``block_actions`` request for an overflow menu option picked on a
    message the bot posted (Slack sends the option as ``selected_option``, no ``value``)."""
    payload = block_actions_payload(
        action_id=action_id,
        value=value,
        user_id=user_id,
        channel_id=channel_id,
        message_ts=message_ts,
        team_id=team_id,
        response_url=response_url,
        block_id=block_id,
    )
    action = payload["actions"][0]
    payload["actions"] = [
        {
            "type": "overflow",
            "action_id": action["action_id"],
            "block_id": action["block_id"],
            "selected_option": {
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": value,
            },
            "action_ts": action["action_ts"],
        }
    ]
    return interactivity_body(payload)
