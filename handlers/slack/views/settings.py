"""The channel settings form as a Slack modal, what a submission's state holds, and the options
of its searched menus (time zones, holiday countries).

Each input of the form (bot/settings_form.py) becomes an input block whose block_id is the
input's key (so `response_action: errors` lands next to it) and whose element is chosen by
the input's kind: a static select, a timepicker, checkboxes, or an external select for time
zones and countries (about 600 zones and 250 countries: more than a static select's 100).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.i18n import _
from bot.settings_form import (
    FormInput,
    InputKind,
    SettingsForm,
    Value,
    holiday_countries,
    timezone_names,
)
from handlers.slack.fields import CONVERSATION, slack_id
from handlers.slack.views.home import HomePlace

SETTINGS_CALLBACK = "stretch_settings"
ACTION_PREFIX = "stretch_form_"  # + the input's key
SEARCHED = (InputKind.TIMEZONE, InputKind.COUNTRY)
NO_COUNTRY = "none"  # the "no holidays" option of the country menu
MAX_OPTIONS = 100  # options in one answer to a menu search
OPTION_TEXT = 75


@dataclass(frozen=True)
class ModalPlace:
    """What travels in the modal's private_metadata: the channel, and the Home tab to
    refresh after saving when the modal was opened from it."""

    channel_id: str
    home: HomePlace | None = None

    def metadata(self) -> str:
        data: dict[str, Any] = {"c": self.channel_id}
        if self.home is not None:
            data["h"] = {"dm": self.home.dm, "page": self.home.page}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def read(cls, metadata: object) -> ModalPlace | None:
        """None unless the metadata names a channel id of the right shape."""
        try:
            data = json.loads(metadata) if isinstance(metadata, str) else None
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        channel_id = slack_id(data.get("c"), CONVERSATION)
        if channel_id is None:
            return None
        home = data.get("h")
        return cls(channel_id, HomePlace.read(json.dumps(home)) if isinstance(home, dict) else None)


def _plain(text: str, limit: int = OPTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value[:150]}


def _element(item: FormInput, value: Value) -> dict[str, Any]:
    action_id = ACTION_PREFIX + item.key
    kind = item.kind
    if kind is InputKind.CHOICE:
        options = [_option(o.value, o.label) for o in item.options_for(value)][:MAX_OPTIONS]
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": action_id,
            "options": options,
        }
        chosen = [o for o in options if o["value"] == value]
        if chosen:
            element["initial_option"] = chosen[0]
        return element
    if kind is InputKind.TIME:
        element = {"type": "timepicker", "action_id": action_id}
        if isinstance(value, str):
            element["initial_time"] = value
        return element
    if kind is InputKind.DAYS:
        options = [_option(o.value, o.label) for o in item.options_for(value)][:10]
        element = {"type": "checkboxes", "action_id": action_id, "options": options}
        picked = [o for o in options if isinstance(value, tuple) and o["value"] in value]
        if picked:
            element["initial_options"] = picked
        return element
    if kind is InputKind.TOGGLE:
        box = _option("on", _(item.label))
        element = {"type": "checkboxes", "action_id": action_id, "options": [box]}
        if value is True:
            element["initial_options"] = [box]
        return element
    # Searched menus: options come from the options handler (`search_options`).
    element = {
        "type": "external_select",
        "action_id": action_id,
        "min_query_length": 1,
        "placeholder": _plain(
            _("Type a city or region") if kind is InputKind.TIMEZONE else _("Type a country"), 150
        ),
    }
    if isinstance(value, str) and value:
        element["initial_option"] = _option(value, _option_text(kind, value))
    return element


def settings_modal(form: SettingsForm, *, place: ModalPlace) -> dict[str, Any]:
    """The modal for `form` (`place` goes into its private_metadata)."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _(
                        "Movement breaks in <#{channel}>. Saving posts the change there, as "
                        "typing the command would."
                    ).format(channel=form.channel.channel_id),
                }
            ],
        }
    ]
    for item in form.inputs:
        value = form.values.get(item.key)
        block: dict[str, Any] = {
            "type": "input",
            "block_id": item.key,
            "label": _plain(_(item.label), 2000),
            "element": _element(item, value),
            "optional": item.optional,
        }
        if item.hint:
            block["hint"] = _plain(_(item.hint), 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": SETTINGS_CALLBACK,
        "title": _plain(_("Channel schedule"), 24),
        "submit": _plain(_("Save"), 24),
        "close": _plain(_("Cancel"), 24),
        "private_metadata": place.metadata(),
        "blocks": blocks,
    }


def read_values(inputs: tuple[FormInput, ...], state: object) -> dict[str, Value]:
    """The submitted values of `inputs` from a view's `state.values`; a missing or misshapen
    entry reads as no value (the form then says what is missing)."""
    values: dict[str, Value] = {}
    blocks = state.get("values") if isinstance(state, dict) else None
    blocks = blocks if isinstance(blocks, dict) else {}
    for item in inputs:
        block = blocks.get(item.key)
        entry = block.get(ACTION_PREFIX + item.key) if isinstance(block, dict) else None
        values[item.key] = _value(item.kind, entry) if isinstance(entry, dict) else None
    return values


def _value(kind: InputKind, entry: Mapping[str, Any]) -> Value:
    if kind is InputKind.TIME:
        selected = entry.get("selected_time")
        return selected if isinstance(selected, str) else None
    if kind in (InputKind.DAYS, InputKind.TOGGLE):
        options = entry.get("selected_options")
        if not isinstance(options, list):
            return None if kind is InputKind.DAYS else False
        chosen = tuple(
            str(o.get("value"))
            for o in options
            if isinstance(o, dict) and isinstance(o.get("value"), str)
        )
        return bool(chosen) if kind is InputKind.TOGGLE else chosen
    option = entry.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    if not isinstance(value, str) or (kind is InputKind.COUNTRY and value == NO_COUNTRY):
        return None
    return value


# ---- searched menus --------------------------------------------------------------------------


def _option_text(kind: InputKind, value: str) -> str:
    if kind is InputKind.COUNTRY:
        name = holiday_countries().get(value.upper())
        return f"{name} ({value.upper()})" if name else value
    return value.replace("_", " ")


def input_of(form_inputs: tuple[FormInput, ...], action_id: object) -> FormInput | None:
    """The searched input a menu's action_id belongs to."""
    if not isinstance(action_id, str) or not action_id.startswith(ACTION_PREFIX):
        return None
    key = action_id.removeprefix(ACTION_PREFIX)
    return next((i for i in form_inputs if i.key == key and i.kind in SEARCHED), None)


def search_options(kind: InputKind, query: object) -> list[dict[str, Any]]:
    """The options of a searched menu for what the person typed (at most 100)."""
    typed = str(query)[:64].strip().lower().replace(" ", "_") if isinstance(query, str) else ""
    if kind is InputKind.TIMEZONE:
        found = [zone for zone in timezone_names() if typed in zone.lower()]
        # Zones whose city starts with the text first: "ber" finds Europe/Berlin before Cuba's.
        found.sort(key=lambda zone: (not zone.lower().rsplit("/", 1)[-1].startswith(typed), zone))
        return [_option(zone, _option_text(kind, zone)) for zone in found[:MAX_OPTIONS]]
    spaced = typed.replace("_", " ")
    options = [_option(NO_COUNTRY, _("No holidays: nudge on public holidays too"))]
    for code, name in holiday_countries().items():
        if spaced in name.lower() or typed == code.lower():
            options.append(_option(code, f"{name} ({code})"))
    return options[:MAX_OPTIONS]
