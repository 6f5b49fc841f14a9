"""Activities shaped the way Microsoft Teams sends them to a bot's messaging endpoint.

Shapes follow captured Teams payloads (Bot Framework Activity schema plus Teams `channelData`):
a channel message's conversation id carries `;messageid=<root>` when it is in a thread,
`from.aadObjectId` is the person's Entra object id, and `entities` carry mentions and a
`clientInfo` entity with the sender's timezone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

APP_ID = "00000000-0000-0000-0000-00000000b0b0"
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "stretchbot"
TENANT = "11111111-2222-3333-4444-555555555555"
TEAM = "19:team-general-0001@thread.tacv2"  # a team's id is its General channel's id
GENERAL = TEAM
DESIGN = "19:design-0002@thread.tacv2"
GROUP_CHAT = "19:meeting-group-chat-0003@thread.v2"
WORKSPACE = f"{TENANT}:{TEAM}"

_ids = itertools.count(1)


@dataclass(frozen=True)
class Person:
    aad: str  # Entra object id: the stable person id
    teams_id: str  # the Teams user id ("29:...")
    name: str
    timezone: str = "Europe/Berlin"

    def account(self) -> JsonDict:
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad}


ADA = Person("aad-ada-0001", "29:1ada", "Ada Lovelace", "Europe/Berlin")
GRACE = Person("aad-grace-0002", "29:1grace", "Grace Hopper", "America/New_York")
LINUS = Person("aad-linus-0003", "29:1linus", "Linus [admin] *T*", "Europe/Helsinki")


def _activity(
    kind: str,
    *,
    service_url: str,
    conversation_id: str,
    person: Person | None = ADA,
    channel: str | None = GENERAL,
    team: str | None = TEAM,
    conversation_type: str = "channel",
    **extra: Any,
) -> JsonDict:
    channel_data: JsonDict = {"tenant": {"id": TENANT}}
    if team is not None:
        channel_data["team"] = {"id": team, "name": "Desk crew", "aadGroupId": "group-0001"}
    if channel is not None and team is not None:
        channel_data["channel"] = {"id": channel}
    activity: JsonDict = {
        "type": kind,
        "id": f"f:{next(_ids)}",
        "timestamp": "2026-11-23T08:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": person.account() if person else {"id": "29:system"},
        "conversation": {
            "isGroup": conversation_type != "personal",
            "conversationType": conversation_type,
            "tenantId": TENANT,
            "id": conversation_id,
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": channel_data,
        "locale": "en-US",
    }
    activity.update(extra)
    return activity


def message(
    text: str,
    *,
    service_url: str,
    person: Person = ADA,
    channel: str = GENERAL,
    thread: str | None = None,
    mention: bool = True,
) -> JsonDict:
    """`@stretchbot <text>` in a team channel (in a thread when `thread` is a message id)."""
    conversation = f"{channel};messageid={thread}" if thread else channel
    tag = f"<at>{BOT_NAME}</at>"
    entities: list[JsonDict] = [
        {
            "type": "clientInfo",
            "locale": "en-US",
            "country": "DE",
            "platform": "Web",
            "timezone": person.timezone,
        }
    ]
    if mention:
        entities.insert(
            0, {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        )
    return _activity(
        "message",
        service_url=service_url,
        conversation_id=conversation,
        person=person,
        channel=channel,
        text=f"{tag} {text}\n" if mention else text,
        textFormat="plain",
        entities=entities,
        localTimezone=person.timezone,
    )


def personal_message(text: str, *, service_url: str, person: Person = ADA) -> JsonDict:
    """A message in the person's 1:1 chat with the bot (no mention needed)."""
    return _activity(
        "message",
        service_url=service_url,
        conversation_id=f"a:1personal-{person.aad}",
        person=person,
        team=None,
        channel=None,
        conversation_type="personal",
        text=text,
        textFormat="plain",
        localTimezone=person.timezone,
    )


def installed(
    *, service_url: str, person: Person = ADA, selected_channel: str | None = None
) -> JsonDict:
    """`installationUpdate` add: the app was added to the team."""
    activity = _activity(
        "installationUpdate", service_url=service_url, conversation_id=GENERAL, person=person
    )
    activity["action"] = "add"
    if selected_channel:
        activity["channelData"]["settings"] = {"selectedChannel": {"id": selected_channel}}
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def uninstalled(*, service_url: str, person: Person = ADA) -> JsonDict:
    activity = _activity(
        "installationUpdate", service_url=service_url, conversation_id=GENERAL, person=person
    )
    activity["action"] = "remove"
    return activity


def bot_added(
    *, service_url: str, conversation_id: str = GENERAL, group_chat: bool = False
) -> JsonDict:
    """`conversationUpdate` with the bot in `membersAdded` (a team or a group chat)."""
    activity = _activity(
        "conversationUpdate",
        service_url=service_url,
        conversation_id=conversation_id,
        team=None if group_chat else TEAM,
        channel=None if group_chat else GENERAL,
        conversation_type="groupChat" if group_chat else "channel",
        membersAdded=[{"id": BOT_ID}],
    )
    activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity


def bot_removed(
    *, service_url: str, conversation_id: str = GENERAL, group_chat: bool = False
) -> JsonDict:
    activity = _activity(
        "conversationUpdate",
        service_url=service_url,
        conversation_id=conversation_id,
        team=None if group_chat else TEAM,
        channel=None if group_chat else GENERAL,
        conversation_type="groupChat" if group_chat else "channel",
        membersRemoved=[{"id": BOT_ID}],
    )
    activity["channelData"]["eventType"] = "teamMemberRemoved"
    return activity


def reaction(
    message_id: str,
    *,
    service_url: str,
    person: Person = ADA,
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
    channel: str = GENERAL,
) -> JsonDict:
    """`messageReaction` on a channel message (Teams omits the reactor's name)."""
    activity = _activity(
        "messageReaction",
        service_url=service_url,
        conversation_id=f"{channel};messageid={message_id}",
        person=person,
        channel=channel,
        replyToId=message_id,
    )
    activity["from"] = {"id": person.teams_id, "aadObjectId": person.aad}
    activity["channelData"]["legacy"] = {"replyToId": message_id}
    if added:
        activity["reactionsAdded"] = [{"type": kind} for kind in added]
    if removed:
        activity["reactionsRemoved"] = [{"type": kind} for kind in removed]
    return activity


def done_pressed(
    message_id: str,
    *,
    service_url: str,
    exercise: str,
    person: Person = ADA,
    channel: str = GENERAL,
) -> JsonDict:
    """The invoke Teams sends when someone presses the nudge's Done button."""
    activity = _activity(
        "invoke",
        service_url=service_url,
        conversation_id=f"{channel};messageid={message_id}",
        person=person,
        channel=channel,
        name="adaptiveCard/action",
        replyToId=message_id,
        value={
            "action": {
                "type": "Action.Execute",
                "title": "Done ✅",
                "verb": "done",
                "data": {"exercise": exercise},
            },
            "trigger": "manual",
        },
        entities=[{"type": "clientInfo", "locale": "en-US", "timezone": person.timezone}],
    )
    activity["channelData"]["source"] = {"name": "message"}
    activity["channelData"]["legacy"] = {"replyToId": message_id}
    return activity


def card_action(
    message_id: str,
    *,
    service_url: str,
    verb: str,
    data: JsonDict,
    person: Person = ADA,
    channel: str = GENERAL,
) -> JsonDict:
    """The invoke Teams sends when someone presses an `Action.Execute` button of a card."""
    activity = done_pressed(
        message_id, service_url=service_url, exercise="", person=person, channel=channel
    )
    activity["value"]["action"] = {"type": "Action.Execute", "verb": verb, "data": data}
    return activity


def channel_deleted(channel: str, *, service_url: str) -> JsonDict:
    activity = _activity(
        "conversationUpdate", service_url=service_url, conversation_id=GENERAL, channel=GENERAL
    )
    activity["channelData"]["eventType"] = "channelDeleted"
    activity["channelData"]["channel"] = {"id": channel, "name": "old"}
    return activity
