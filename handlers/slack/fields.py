"""Who and where, read from Slack payload fields: ids checked for shape before anything acts on them.

A signed payload can still carry a field of the wrong type or shape (an object for a user, an
empty channel, NUL bytes, 4,000 characters of mrkdwn): none of that may become a person, a
channel or a schedule, on any database. Slack ids are uppercase letters and digits (up to 40) after a
one-letter prefix (T team, E enterprise, U/W user, C/G/D conversation); message timestamps
are `seconds.micro`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.commands.base import CommandContext
from bot.ports import ChannelKey

_ID = re.compile(r"[A-Z0-9]{1,40}", re.ASCII)
_TS = re.compile(r"\d{1,12}\.\d{1,9}", re.ASCII)

TEAM = "T"
ENTERPRISE = "E"
USER = "UW"
CONVERSATION = "CGD"


def slack_id(value: object, prefixes: str) -> str | None:
    """`value` when it is a Slack id starting with one of `prefixes`, else None."""
    if isinstance(value, str) and value[:1] in prefixes and _ID.fullmatch(value[1:]):
        return value
    return None


def message_ts(value: object) -> str | None:
    """`value` when it is a Slack message timestamp (`1700000000.123456`), else None."""
    if isinstance(value, str) and _TS.fullmatch(value):
        return value
    return None


def command_context(
    *, team: object, channel: object, user: object, enterprise: object = None
) -> CommandContext | None:
    """Who typed a command where, from payload fields; None unless each is a Slack id."""
    team_id = slack_id(team, TEAM)
    channel_id = slack_id(channel, CONVERSATION)
    user_id = slack_id(user, USER)
    enterprise_id = slack_id(enterprise, ENTERPRISE) if enterprise else None
    if team_id is None or channel_id is None or user_id is None:
        return None
    if enterprise and enterprise_id is None:
        return None
    return CommandContext(ChannelKey("slack", team_id, channel_id), user_id, enterprise_id)


def action_channel(body: dict[str, Any]) -> object:
    """The channel of an interaction (its container's, or the payload's)."""
    container = body.get("container")
    channel = body.get("channel")
    found = container.get("channel_id") if isinstance(container, dict) else None
    return found or (channel.get("id") if isinstance(channel, dict) else None)


def action_user(body: dict[str, Any]) -> object:
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) else None


def action_message_ts(body: dict[str, Any]) -> str | None:
    """The timestamp of the message an interaction happened on."""
    container = body.get("container")
    message = body.get("message")
    found = container.get("message_ts") if isinstance(container, dict) else None
    return message_ts(found or (message.get("ts") if isinstance(message, dict) else None))


def pressed_context(body: dict[str, Any], context: Any) -> CommandContext | None:
    """Who pressed a button or picked a menu option, where (Enterprise Grid included): the
    command context a pressed command runs in; None unless each id is a Slack id."""
    return command_context(
        team=getattr(context, "team_id", None),
        channel=action_channel(body),
        user=action_user(body),
        enterprise=getattr(context, "enterprise_id", None),
    )
