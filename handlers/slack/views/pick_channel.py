"""The small "which channel?" modal: the "Take a movement break" shortcut's (a channel, or just
you in your DM) and the installer hello's "Set a schedule" (a channel, then its settings form).

What the modal is for travels in its private_metadata; the submitted state holds the picked
conversation (`selected_conversation`) and whether "Just me" was ticked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.i18n import _
from handlers.slack.fields import CONVERSATION, slack_id

PICK_CALLBACK = "stretch_pick_channel"  # the modal's callback_id
BREAK_SHORTCUT = "stretch_break_shortcut"  # the global shortcut's callback_id (manifest.yml)
PICK_SCHEDULE_ACTION = "stretch_pick_schedule"  # the installer hello's "Set a schedule"
CHANNEL_BLOCK = "pick_channel"
CHANNEL_ACTION = "stretch_pick_conversation"
ME_BLOCK = "pick_me"
ME_ACTION = "stretch_pick_me"
ME_VALUE = "me"


class Purpose(StrEnum):
    BREAK = "break"  # post a break in the channel, or DM one to the person
    SCHEDULE = "schedule"  # open the channel's settings form


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def pick_channel_modal(purpose: Purpose) -> dict[str, Any]:
    """The modal asking where: for a break, a channel or "just me"; for a schedule, a channel."""
    breaking = purpose is Purpose.BREAK
    intro = (
        _(
            "Pick a channel and I'll post a break with one exercise there for everyone, or "
            "tick *Just me* for one in your DM with me."
        )
        if breaking
        else _("Which channel should get a schedule? You'll set it up on the next screen.")
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
        {
            "type": "input",
            "block_id": CHANNEL_BLOCK,
            "optional": breaking,
            "label": _plain(_("Channel"), 2000),
            "element": {
                "type": "conversations_select",
                "action_id": CHANNEL_ACTION,
                "placeholder": _plain(_("Pick a channel"), 150),
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
        },
    ]
    if breaking:
        blocks.append(
            {
                "type": "input",
                "block_id": ME_BLOCK,
                "optional": True,
                "label": _plain(_("Or"), 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": ME_ACTION,
                    "options": [
                        {
                            "text": _plain(_("Just me: send it to my DM"), 75),
                            "value": ME_VALUE,
                        }
                    ],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": PICK_CALLBACK,
        "private_metadata": purpose.value,
        "title": _plain(_("Take a break") if breaking else _("Set a schedule"), 24),
        "submit": _plain(_("Go") if breaking else _("Next"), 24),
        "close": _plain(_("Cancel"), 24),
        "blocks": blocks,
    }


def read_purpose(view: dict[str, Any]) -> Purpose | None:
    try:
        return Purpose(str(view.get("private_metadata") or ""))
    except ValueError:
        return None


def read_pick(view: dict[str, Any]) -> tuple[str | None, bool]:
    """(the picked channel id or None, whether "Just me" was ticked) from a submitted view;
    anything of the wrong shape reads as not picked."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    values = values if isinstance(values, dict) else {}
    picked = values.get(CHANNEL_BLOCK)
    picked = picked.get(CHANNEL_ACTION) if isinstance(picked, dict) else None
    channel = slack_id(
        picked.get("selected_conversation") if isinstance(picked, dict) else None, CONVERSATION
    )
    ticked = values.get(ME_BLOCK)
    ticked = ticked.get(ME_ACTION) if isinstance(ticked, dict) else None
    options = ticked.get("selected_options") if isinstance(ticked, dict) else None
    just_me = isinstance(options, list) and any(
        isinstance(o, dict) and o.get("value") == ME_VALUE for o in options
    )
    return channel, just_me
