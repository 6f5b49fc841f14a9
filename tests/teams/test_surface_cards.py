"""The Teams settings and home cards (handlers/teams/surface_cards.py) have the Adaptive Card
1.5 shape Teams renders: known element types with their required properties (inputs with a
unique `id`, choice sets with `title`/`value` choices, toggles with `title`), `Action.Execute`
with a `verb`, and the size a Teams message allows; submitted values read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.home import HomeChannel, HomeSummary, next_nudge
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec, next_slot_after
from bot.settings_form import FORM_PARTS, FormDefaults, SettingsForm, initial_values
from handlers.teams.surface_cards import home_card, read_values, settings_card
from tests.teams.payloads import GENERAL, TENANT

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEY = ChannelKey("teams", f"{TENANT}:{GENERAL}", GENERAL)
TEAMS_MESSAGE_BYTES = 28_000
ELEMENTS = {"TextBlock", "Container", "Input.Text", "Input.Time", "Input.ChoiceSet", "Input.Toggle"}


def shape_problems(card: dict[str, Any]) -> list[str]:
    problems = []
    if card.get("type") != "AdaptiveCard" or card.get("version") != "1.5":
        problems.append("not an AdaptiveCard 1.5")
    ids: set[str] = set()

    def walk(items: list[dict[str, Any]], where: str) -> None:
        for index, item in enumerate(items):
            at = f"{where}/{index}"
            kind = item.get("type")
            if kind not in ELEMENTS:
                problems.append(f"{at}: unknown element {kind}")
                continue
            if kind == "TextBlock" and not isinstance(item.get("text"), str):
                problems.append(f"{at}: TextBlock without text")
            if kind == "Container":
                walk(item.get("items") or [], f"{at}/items")
            if kind.startswith("Input."):
                input_id = item.get("id")
                if not isinstance(input_id, str) or not input_id or input_id in ids:
                    problems.append(f"{at}: input id missing or repeated")
                ids.add(str(input_id))
                if not isinstance(item.get("value", ""), str):
                    problems.append(f"{at}: value must be a string")
            if kind == "Input.ChoiceSet":
                choices = item.get("choices")
                if not isinstance(choices, list) or not all(
                    isinstance(c.get("title"), str) and isinstance(c.get("value"), str)
                    for c in choices
                ):
                    problems.append(f"{at}: choices need a title and a value")
                if item.get("style") not in ("compact", "expanded", "filtered"):
                    problems.append(f"{at}: unknown choice set style")
            if kind == "Input.Toggle" and not isinstance(item.get("title"), str):
                problems.append(f"{at}: a toggle needs a title")

    walk(card.get("body") or [], "/body")
    for index, action in enumerate(card.get("actions") or []):
        if action.get("type") != "Action.Execute" or not isinstance(action.get("verb"), str):
            problems.append(f"/actions/{index}: not an Action.Execute with a verb")
        if not isinstance(action.get("data", {}), dict):
            problems.append(f"/actions/{index}: data must be an object")
    if len(json.dumps(card).encode()) > TEAMS_MESSAGE_BYTES:
        problems.append("too big for a Teams message")
    return problems


def form(state: ChannelState) -> SettingsForm:
    values = initial_values(FORM_PARTS, state, FormDefaults(tz="Europe/Berlin"))
    return SettingsForm(channel=KEY, values=values, parts=FORM_PARTS)


SPEC = ScheduleSpec(interval=timedelta(minutes=50), tz="Asia/Tokyo", holidays="JP")


@pytest.mark.parametrize(
    ("state", "errors"),
    [
        (ChannelState(key=KEY), None),
        (
            ChannelState(key=KEY, spec=SPEC, enabled=True, seated_only=True),
            {"tz": "x" * 500, "days": "Pick at least one day.", "interval": "?"},
        ),
    ],
)
def test_the_settings_card_has_teams_shape(
    state: ChannelState, errors: dict[str, str] | None
) -> None:
    card = settings_card(form(state), errors)
    assert shape_problems(card) == []
    [save] = card["actions"]
    assert save["verb"] == "settings"


def test_what_teams_sends_back_reads_as_the_values_the_form_opened_with() -> None:
    opened = form(ChannelState(key=KEY, spec=SPEC, enabled=True, seated_only=True))
    card = settings_card(opened)
    sent = {item["id"]: item["value"] for item in card["body"] if "id" in item}
    assert read_values(opened.inputs, {**card["actions"][0]["data"], **sent}) == opened.values
    assert read_values(opened.inputs, "junk") == {
        "interval": None,
        "window_start": None,
        "window_end": None,
        "days": (),
        "tz": None,
        "holidays": None,
        "seated": False,
        "weekly_board": False,
        "language": None,
    }


def home(total: int, **changes: Any) -> HomeSummary:
    spec = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
    channels = []
    for n in range(min(total, 20)):
        key = ChannelKey("teams", f"{TENANT}:team-{n}", GENERAL if n == 0 else f"19:c{n}")
        state = ChannelState(
            key=key, spec=spec, enabled=True, next_slot_at=next_slot_after(spec, NOW)
        )
        channels.append(HomeChannel(state, next_nudge(state, NOW), week_breaks=n, streak=n))
    return HomeSummary(
        platform="teams",
        team_id=f"{TENANT}:a:personal",
        person_id="aad-1",
        now=NOW,
        week_breaks=sum(range(min(total, 20))),
        best_streak=19 if total else 0,
        best_streak_channel=channels[-1].key if channels else None,
        channels=tuple(channels),
        total_channels=total,
        **changes,
    )


@pytest.mark.parametrize("summary", [home(0), home(3), home(500, opted_out=True)])
def test_the_home_card_has_teams_shape_and_no_slack_markup(summary: HomeSummary) -> None:
    card = home_card(summary)
    assert shape_problems(card) == []
    text = json.dumps(card)
    assert "<#" not in text and "<!date" not in text and "<@" not in text
