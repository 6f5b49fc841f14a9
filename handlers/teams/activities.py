"""Teams activities in core terms: which channel, which person, which message, which timezone.

Identity rules (see the Teams issue):
- a person is their stable Entra object id (`from.aadObjectId`);
- a workspace is `<tenant id>:<team id>` in a team, `<tenant id>:<conversation id>` in a group
  chat or personal chat;
- a channel is the conversation id without the `;messageid=...` thread suffix Teams adds when
  someone writes in a thread.
"""

from __future__ import annotations

import html
import re

from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_teams.api.models import ChannelData
from pydantic import ValidationError

from bot.ports import ChannelKey

PLATFORM = "teams"
_THREAD_SUFFIX = ";messageid="
_COMMAND_WORD = re.compile(r"^/?stretch(?:\s+|$)", re.IGNORECASE)
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


_ID = re.compile(r"[\x21-\x7e]{1,200}", re.ASCII)  # printable, no spaces: Teams and Entra ids


def clean_id(value: object) -> str | None:
    """`value` when it looks like a Teams or Entra id (bounded, printable, no spaces), else
    None: a signed activity may still carry junk that must never be stored."""
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def channel_data(activity: Activity) -> ChannelData | None:
    """The Teams channel data of an activity (already parsed by the Teams extension or not)."""
    data = activity.channel_data
    if data is None or isinstance(data, ChannelData):
        return data
    try:
        return ChannelData.model_validate(data)
    except ValidationError:
        return None


def base_conversation_id(conversation_id: str) -> str:
    """The channel's conversation id without the thread suffix (`;messageid=...`)."""
    return conversation_id.split(_THREAD_SUFFIX, 1)[0]


def tenant_id(activity: Activity) -> str:
    data = channel_data(activity)
    if data is not None and data.tenant is not None and data.tenant.id:
        return data.tenant.id
    conversation = activity.conversation
    return (conversation.tenant_id if conversation is not None else None) or ""


def workspace_id(activity: Activity) -> str | None:
    """`<tenant>:<team>` in a team, `<tenant>:<conversation>` in group and personal chats."""
    conversation = activity.conversation
    if conversation is None or clean_id(conversation.id) is None:
        return None
    data = channel_data(activity)
    team = data.team.id if data is not None and data.team is not None else None
    if team is not None and clean_id(team) is None:
        return None
    tenant = tenant_id(activity)
    if tenant and clean_id(tenant) is None:
        return None
    return f"{tenant}:{team or base_conversation_id(conversation.id)}"


def channel_key(activity: Activity, *, conversation_id: str | None = None) -> ChannelKey | None:
    """The channel an activity happened in (or `conversation_id` in the same workspace)."""
    workspace = workspace_id(activity)
    conversation = activity.conversation
    if workspace is None or conversation is None:
        return None
    channel = clean_id(base_conversation_id(conversation_id or conversation.id or ""))
    return ChannelKey(PLATFORM, workspace, channel) if channel else None


def install_channel_id(activity: Activity) -> str | None:
    """Where an install should greet and post: the channel chosen at install, else the
    conversation (a team's General channel, the group chat, the personal chat)."""
    data = channel_data(activity)
    if data is not None and data.settings is not None and data.settings.selected_channel:
        selected = data.settings.selected_channel.id
        if selected:
            return selected
    conversation = activity.conversation
    return base_conversation_id(conversation.id) if conversation and conversation.id else None


def person_id(account: ChannelAccount | None) -> str | None:
    """A person's stable id: the Entra object id (the Teams user id only as a last resort)."""
    if account is None:
        return None
    return clean_id(account.aad_object_id or account.id)


def display_name(account: ChannelAccount | None) -> str | None:
    name = account.name if account is not None else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def is_bot(account: ChannelAccount | None, activity: Activity) -> bool:
    """True when `account` is this bot (the activity's recipient)."""
    recipient = activity.recipient
    return bool(account and recipient and account.id and account.id == recipient.id)


def client_timezone(activity: Activity) -> str | None:
    """The sender's IANA timezone: `localTimezone`, else the clientInfo entity's `timezone`."""
    if activity.local_timezone:
        return str(activity.local_timezone)
    for entity in activity.entities or []:
        if str(getattr(entity, "type", "")).lower() != "clientinfo":
            continue
        extra = entity.model_extra or {}
        for name in ("timezone", "local_timezone", "localTimezone"):
            value = extra.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def is_for_the_bot(activity: Activity) -> bool:
    """A message the bot should treat as a command: it has text, or it mentions the bot (a bare
    `@stretchbot` means a break now). Files, stickers and card submits without text do not."""
    if (activity.text or "").strip():
        return True
    recipient = activity.recipient
    return any(
        mention.mentioned is not None
        and recipient is not None
        and mention.mentioned.id == recipient.id
        for mention in activity.get_mentions()
    )


def command_text(activity: Activity) -> str:
    """The command words of a message: mentions of the bot, markup and a leading `stretch`
    (or `/stretch`) removed, so `@stretchbot stretch every 45m` and `@stretchbot every 45m`
    both give `every 45m`."""
    text = _MENTION.sub(" ", activity.text or "")
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\xa0", " ").strip()
    return _COMMAND_WORD.sub("", text, count=1).strip()
