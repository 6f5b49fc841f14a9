"""Adaptive Cards (1.5) for the settings form and a person's home card in Teams, and reading a
submitted form's values back. Pure: core values in, card JSON out.

The form's inputs map by kind: a compact choice set, `Input.Time`, a multi-select choice set
for days, a text input for the time zone (about 600 zones would make the card too big for a
message; the answer is checked like typed text), a filtered choice set for holiday countries,
and toggles. Its Save button is `Action.Execute` with verb `settings`: Teams sends the inputs'
values with it, and mistakes come back in the card next to their input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity import Activity

from bot.commands.base import Reply
from bot.home import HomeSummary
from bot.home_words import schedule_line, streak_line, week_line
from bot.i18n import _
from bot.settings_form import FormInput, InputKind, SettingsForm, Value, holiday_countries
from handlers.teams.cards import (
    CARD_SCHEMA,
    CARD_VERSION,
    RUN_VERB,
    card_activity,
    teams_markdown,
)

SETTINGS_VERB = "settings"
_CHANNEL_REF = re.compile(r"<#([^>|]{1,300})>")


def _card(body: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
        **extra,
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _input(item: FormInput, value: Value) -> dict[str, Any]:
    base: dict[str, Any] = {"id": item.key, "label": _(item.label)}
    kind = item.kind
    if kind is InputKind.CHOICE:
        return {
            **base,
            "type": "Input.ChoiceSet",
            "style": "compact",
            "isRequired": True,
            "errorMessage": _("Pick one."),
            "value": value if isinstance(value, str) else "",
            "choices": [{"title": o.label, "value": o.value} for o in item.options_for(value)],
        }
    if kind is InputKind.TIME:
        return {
            **base,
            "type": "Input.Time",
            "isRequired": True,
            "value": value if isinstance(value, str) else "",
        }
    if kind is InputKind.DAYS:
        return {
            **base,
            "type": "Input.ChoiceSet",
            "style": "expanded",
            "isMultiSelect": True,
            "value": ",".join(value) if isinstance(value, tuple) else "",
            "choices": [{"title": o.label, "value": o.value} for o in item.options_for(value)],
        }
    if kind is InputKind.TIMEZONE:
        return {
            **base,
            "type": "Input.Text",
            "isRequired": True,
            "maxLength": 64,
            "placeholder": "Europe/Berlin",
            "value": value if isinstance(value, str) else "",
        }
    if kind is InputKind.COUNTRY:
        choices = [{"title": _("No holidays: nudge on public holidays too"), "value": ""}]
        choices += [
            {"title": f"{name} ({code})", "value": code}
            for code, name in holiday_countries().items()
        ]
        return {
            **base,
            "type": "Input.ChoiceSet",
            "style": "filtered",
            "value": value if isinstance(value, str) else "",
            "choices": choices,
        }
    return {
        "id": item.key,
        "type": "Input.Toggle",
        "title": _(item.label),
        "value": "true" if value is True else "false",
        "valueOn": "true",
        "valueOff": "false",
    }


def settings_card(form: SettingsForm, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form with its values (and, after a submission, its mistakes under their inputs)."""
    errors = errors or {}
    body: list[dict[str, Any]] = [
        _text(
            _("Movement breaks in this channel"), weight="Bolder", size="Medium", style="heading"
        ),
        _text(
            _("Saving posts the change here, as typing the command would."),
            isSubtle=True,
            spacing="None",
        ),
    ]
    for item in form.inputs:
        body.append(_input(item, form.values.get(item.key)))
        if item.hint:
            body.append(_text(_(item.hint), size="Small", isSubtle=True, spacing="None"))
        if item.key in errors:
            body.append(_text(errors[item.key], color="Attention", spacing="None"))
    return _card(
        body,
        actions=[
            {
                "type": "Action.Execute",
                "title": _("Save"),
                "verb": SETTINGS_VERB,
                "style": "positive",
                "data": {"form": "settings"},
            }
        ],
    )


def read_values(inputs: tuple[FormInput, ...], data: object) -> dict[str, Value]:
    """The values Teams sent with the Save button (all strings); anything else reads as none."""
    given = data if isinstance(data, dict) else {}
    values: dict[str, Value] = {}
    for item in inputs:
        raw = given.get(item.key)
        text = raw.strip() if isinstance(raw, str) else None
        if item.kind is InputKind.TOGGLE:
            values[item.key] = text == "true"
        elif item.kind is InputKind.DAYS:
            values[item.key] = tuple(day for day in (text or "").split(",") if day)
        else:
            values[item.key] = text or None
    return values


def channel_label(key_channel: str, team_id: str) -> str:
    """How a Teams channel is named on the home card: its id is no name, so a team's General
    channel (whose id is the team's) says so and the others say which schedule they have."""
    return _("General channel") if team_id.endswith(":" + key_channel) else _("A channel")


def home_card(summary: HomeSummary) -> dict[str, Any]:
    """A person's breaks, streak and scheduled channels, for their personal chat."""
    labels = {
        item.key.channel_id: channel_label(item.key.channel_id, item.key.team_id)
        for item in summary.channels
    }
    if summary.best_streak_channel is not None:
        key = summary.best_streak_channel
        labels.setdefault(key.channel_id, channel_label(key.channel_id, key.team_id))

    def markdown(text: str) -> str:
        named = _CHANNEL_REF.sub(lambda m: labels.get(m.group(1), _("a channel")), text)
        return teams_markdown(named, {})[0]

    body: list[dict[str, Any]] = [
        _text(_("Your movement breaks"), weight="Bolder", size="Medium", style="heading"),
        _text(markdown(week_line(summary))),
        _text(markdown(streak_line(summary)), spacing="Small"),
    ]
    if summary.channels:
        body.append(
            _text(_("Scheduled channels where you moved lately"), weight="Bolder", spacing="Medium")
        )
        for channel in summary.channels:
            body.append(
                {
                    "type": "Container",
                    "spacing": "Small",
                    "items": [
                        _text(labels[channel.key.channel_id], weight="Bolder"),
                        _text(markdown(schedule_line(channel, summary)), spacing="None"),
                    ],
                }
            )
        if summary.has_more:
            body.append(
                _text(
                    _("…and {count} more.").format(
                        count=summary.total_channels - len(summary.channels)
                    ),
                    isSubtle=True,
                )
            )
    if summary.opted_out:
        body.append(_text(_("You're opted out: I don't store new breaks of yours."), isSubtle=True))
    opt = ("optin", _("Opt back in")) if summary.opted_out else ("optout", _("Opt out"))
    return _card(
        body,
        actions=[
            {
                "type": "Action.Execute",
                "title": opt[1],
                "verb": RUN_VERB,
                "data": {"command": opt[0]},
            }
        ],
    )


def surface_activity(reply: Reply) -> Activity | None:
    """The card for an answer that carries a form or a person's page; None for a plain one."""
    if reply.form is not None:
        return card_activity(settings_card(reply.form), summary=_("Schedule settings"))
    if reply.home is not None:
        return card_activity(home_card(reply.home), summary=_("Your movement breaks"))
    return None
