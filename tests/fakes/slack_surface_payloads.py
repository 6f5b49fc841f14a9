"""Builders for what Slack sends about its surfaces: `app_home_opened`, `message.im` and
`app_mention` events, and `block_actions` from a view, `view_submission` and
`block_suggestion` interactions (sign and send them with tests.fakes.slack_payloads).

Shapes follow https://docs.slack.dev/reference/events/app_home_opened,
.../events/message.im, .../events/app_mention, .../events/member_joined_channel,
https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload and
https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.slack_payloads import VERIFICATION_TOKEN, new_trigger_id, now_ts

JsonDict = dict[str, Any]


def app_home_opened_event(
    *, user: str, channel: str, tab: str = "home", view: JsonDict | None = None
) -> JsonDict:
    """The person opened the app's Home (or Messages) tab; `channel` is their DM with it."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": now_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def message_im_event(
    *,
    user: str,
    text: str,
    channel: str,
    ts: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
) -> JsonDict:
    """A message in the app's DM (the Messages tab)."""
    ts = ts or now_ts()
    event: JsonDict = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": "T0001",
        "blocks": [],
    }
    if bot_id is not None:
        event["bot_id"] = bot_id
    if subtype is not None:
        event["subtype"] = subtype
    return event


def app_mention_event(
    *, user: str, text: str, channel: str, ts: str | None = None, thread_ts: str | None = None
) -> JsonDict:
    """`@stretchbot ...` in a channel the bot is in (`text` starts with `<@UBOT>`)."""
    ts = ts or now_ts()
    event: JsonDict = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": "T0001",
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def member_joined_channel_event(
    *, user: str, channel: str, inviter: str | None = "U0001", channel_type: str = "C"
) -> JsonDict:
    """`user` joined `channel` (the bot's own user id when it was invited or joined)."""
    event: JsonDict = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": channel_type,
        "team": "T0001",
        "event_ts": now_ts(),
    }
    if inviter is not None:
        event["inviter"] = inviter
    return event


def global_shortcut(
    *, callback_id: str, user: str = "U0001", team: str = "T0001", trigger_id: str | None = None
) -> JsonDict:
    """The person picked a global shortcut (from the composer's + menu or the search bar)."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": now_ts(),
        "team": {"id": team, "domain": "stretchers"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def _who(user: str, team: str) -> JsonDict:
    name = user.lower()
    return {"id": user, "username": name, "name": name, "team_id": team}


def view_block_actions(
    view: JsonDict,
    *,
    action_id: str,
    value: str,
    user: str = "U0001",
    team: str = "T0001",
    block_id: str = "actions",
    trigger_id: str | None = None,
) -> JsonDict:
    """A button pressed in a view (the Home tab or a modal): no channel, no response_url."""
    return {
        "type": "block_actions",
        "user": _who(user, team),
        "api_app_id": "A0001",
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view.get("id", "V0")},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team, "domain": "stretchers"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "button", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": now_ts(),
            }
        ],
    }


def button_in(view: JsonDict, action_id: str) -> tuple[str, JsonDict]:
    """(block_id, element) of the button `action_id` in a view; AssertionError if absent."""
    for block in view.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise AssertionError(f"no button {action_id} in the view")


def press(
    view: JsonDict, action_id: str, *, user: str = "U0001", trigger_id: str | None = None
) -> JsonDict:
    """The payload of pressing the view's button `action_id` (with the value it carries)."""
    block_id, button = button_in(view, action_id)
    return view_block_actions(
        view,
        action_id=action_id,
        value=button.get("value", ""),
        user=user,
        block_id=block_id,
        trigger_id=trigger_id,
    )


def filled_state(view: JsonDict, values: dict[str, Any]) -> JsonDict:
    """`view.state` after a person filled in a modal's inputs, keyed by block id: a str for a
    text input, a select, radio buttons, a timepicker or an external select; a list of values
    for checkboxes (empty: none ticked); a channel id for a conversations_select; None leaves
    the input empty. Inputs not named keep their initial values."""
    state: JsonDict = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        block_id = block["block_id"]
        if block_id in values:
            value = values[block_id]
        elif kind == "timepicker":
            value = element.get("initial_time")
        elif kind == "plain_text_input":
            value = element.get("initial_value")
        elif kind == "checkboxes":
            value = [o["value"] for o in element.get("initial_options", [])]
        elif kind == "conversations_select":
            value = element.get("initial_conversation")
        else:
            initial = element.get("initial_option")
            value = initial["value"] if initial else None
        entry: JsonDict = {"type": kind}
        if kind == "plain_text_input":
            entry["value"] = value
        elif kind == "timepicker":
            entry["selected_time"] = value
        elif kind == "checkboxes":
            offered = {o["value"]: o for o in element["options"]}
            entry["selected_options"] = [offered.get(v, {"value": v}) for v in value or []]
        elif kind == "conversations_select":
            entry["selected_conversation"] = value
        else:
            entry["selected_option"] = (
                None
                if value is None
                else {"text": {"type": "plain_text", "text": str(value)}, "value": value}
            )
        state[block_id] = {element["action_id"]: entry}
    return {"values": state}


def view_submission(
    view: JsonDict, values: dict[str, Any], *, user: str = "U0001", team: str = "T0001"
) -> JsonDict:
    """The person pressed the modal's submit button after filling it in (see `filled_state`)."""
    submitted = json.loads(json.dumps(view))
    submitted["state"] = filled_state(view, values)
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "stretchers"},
        "user": _who(user, team),
        "api_app_id": "A0001",
        "token": VERIFICATION_TOKEN,
        "trigger_id": new_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_suggestion(
    view: JsonDict, *, action_id: str, block_id: str, value: str, user: str = "U0001"
) -> JsonDict:
    """The person typed `value` into an external select of the view."""
    return {
        "type": "block_suggestion",
        "user": _who(user, "T0001"),
        "container": {"type": "view", "view_id": view.get("id", "V0")},
        "api_app_id": "A0001",
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": "T0001", "domain": "stretchers"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
    }
