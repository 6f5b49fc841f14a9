"""The "Add an exercise" form as a Slack modal, and what a submission's state holds.

Each field is an input block whose block_id is the draft's field name, so `response_action:
errors` lands next to it. The channel travels in private_metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.custom_exercises import HOW_TO_LIMIT, NAME_LIMIT, PACK_LIMIT, URL_LIMIT, Draft
from bot.i18n import _

EXERCISE_CALLBACK = "stretch_exercise_add"
ACTION_PREFIX = "stretch_exercise_"  # + the field name
FIELDS = ("name", "how_to", "amount", "unit", "position", "image_url", "pack")


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _text_input(
    field: str,
    label: str,
    *,
    limit: int,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ACTION_PREFIX + field,
        "max_length": limit,
        "multiline": multiline,
    }
    if placeholder:
        element["placeholder"] = _plain(placeholder, 150)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field,
        "label": _plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _choice(field: str, label: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    choices = [{"text": _plain(text), "value": value} for value, text in options]
    return {
        "type": "input",
        "block_id": field,
        "label": _plain(label, 2000),
        "element": {
            "type": "radio_buttons",
            "action_id": ACTION_PREFIX + field,
            "options": choices,
            "initial_option": choices[0],
        },
    }


def exercise_modal(channel_id: str) -> dict[str, Any]:
    """The modal that adds an exercise to the workspace of `channel_id`."""
    return {
        "type": "modal",
        "callback_id": EXERCISE_CALLBACK,
        "private_metadata": channel_id,
        "title": _plain(_("Add an exercise"), 24),
        "submit": _plain(_("Add"), 24),
        "close": _plain(_("Cancel"), 24),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _(
                        "Nudges in every channel of this workspace will suggest it (or only "
                        "channels using its pack). Keep it gentle: no equipment, no pain."
                    ),
                },
            },
            _text_input("name", _("Name"), limit=NAME_LIMIT, placeholder=_("Chin tucks")),
            _text_input(
                "how_to",
                _("How to do it"),
                limit=HOW_TO_LIMIT,
                multiline=True,
                placeholder=_("Sit tall and draw your chin straight back, then relax."),
            ),
            _text_input("amount", _("How many (seconds or reps)"), limit=3, placeholder="30"),
            _choice("unit", _("Counted in"), [("seconds", _("seconds")), ("reps", _("reps"))]),
            _choice("position", _("Done"), [("seated", _("seated")), ("standing", _("standing"))]),
            _text_input(
                "image_url",
                _("Picture (optional)"),
                limit=URL_LIMIT,
                optional=True,
                placeholder="https://",
                hint=_("An https address of a picture that shows the move."),
            ),
            _text_input(
                "pack",
                _("Pack (optional)"),
                limit=PACK_LIMIT,
                optional=True,
                placeholder="physio",
                hint=_(
                    "Only channels that choose this pack (`/stretch exercises pack NAME`) get "
                    "it. Leave empty for every channel."
                ),
            ),
        ],
    }


def read_draft(state: object) -> Draft:
    """The draft in a submission's `view.state`; a field of the wrong shape reads as empty."""
    values = state.get("values") if isinstance(state, Mapping) else None
    found: dict[str, str] = {}
    for field in FIELDS:
        block = values.get(field) if isinstance(values, Mapping) else None
        element = block.get(ACTION_PREFIX + field) if isinstance(block, Mapping) else None
        if not isinstance(element, Mapping):
            continue
        value = element.get("value")
        option = element.get("selected_option")
        if isinstance(option, Mapping):
            value = option.get("value")
        if isinstance(value, str):
            found[field] = value[:10_000]
    return Draft(
        name=found.get("name", ""),
        how_to=found.get("how_to", ""),
        amount=found.get("amount", ""),
        unit=found.get("unit", ""),
        position=found.get("position", ""),
        image_url=found.get("image_url", ""),
        pack=found.get("pack", ""),
    )
