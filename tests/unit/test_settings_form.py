"""The settings form (bot/settings_form.py): its values become the exact command text the
grammar parses, mistakes land next to their input, and an unchanged part is recognised."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest

from bot.commands import REGISTRY
from bot.commands.schedule import ScheduleCommand
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec
from bot.settings_form import (
    FORM_PARTS,
    SCHEDULE,
    SEATED,
    WEEKLY_BOARD,
    FormDefaults,
    InputKind,
    initial_values,
    read_submission,
)

KEY = ChannelKey("slack", "T1", "C1")
SPEC = ScheduleSpec(
    interval=timedelta(minutes=50),
    tz="America/New_York",
    window_start=time(8, 30),
    window_end=time(16, 0),
    weekdays=frozenset({0, 2, 4}),
    holidays="US",
)


def values(**changes: object) -> dict[str, object]:
    base = initial_values(FORM_PARTS, ChannelState(key=KEY), FormDefaults(tz="Europe/Berlin"))
    base.update(changes)
    return base


def test_a_new_channel_starts_from_the_grammars_defaults_in_the_persons_zone() -> None:
    assert values() == {
        "interval": "45m",
        "window_start": "09:00",
        "window_end": "17:00",
        "days": ("0", "1", "2", "3", "4"),
        "tz": "Europe/Berlin",
        "holidays": None,
        "seated": False,
        "weekly_board": True,
        "language": "en",  # the reader's, until the channel has its own
    }


def test_the_schedule_part_is_the_canonical_every_text_the_grammar_parses_alike() -> None:
    submitted = values(
        interval="1h30m",
        window_start="08:00",
        window_end="18:00",
        days=("0", "2", "4"),
        tz="Asia/Tokyo",
        holidays="jp",
    )
    result = read_submission(FORM_PARTS, submitted, REGISTRY)
    assert not result.errors
    texts = [text for _part, text in result.commands]
    assert texts == [
        "every 1h30m 08:00-18:00 mon,wed,fri tz Asia/Tokyo holidays JP",
        "seated off",
        "leaderboard weekly on",
        "language en",
    ]
    command = REGISTRY.parse(texts[0])
    assert command == ScheduleCommand(
        interval=timedelta(minutes=90),
        window_start=time(8),
        window_end=time(18),
        weekdays=frozenset({0, 2, 4}),
        tz="Asia/Tokyo",
        holidays="JP",
    )


def test_a_schedule_set_by_text_opens_as_it_is_and_is_recognised_unchanged() -> None:
    state = ChannelState(key=KEY, spec=SPEC, enabled=True, seated_only=True, weekly_board=False)
    opened = initial_values(FORM_PARTS, state, FormDefaults(tz="Europe/Berlin"))
    assert opened["interval"] == "50m" and opened["tz"] == "America/New_York"
    # `every 50m` is no preset: the menu offers it first anyway.
    [interval] = [item for item in SCHEDULE.inputs if item.key == "interval"]
    assert interval.options_for("50m")[0].value == "50m"
    result = read_submission(FORM_PARTS, opened, REGISTRY)
    for part, text in result.commands:
        assert part.current(state) == text, part.name
    assert SCHEDULE.current(replace(state, enabled=False)) is None  # off: saving turns it on


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"window_start": "17:00", "window_end": "09:00"},
            "window_end",
            "must end after it starts",
        ),
        ({"window_start": "16:30", "window_end": "17:00"}, "window_end", "No nudge would fit"),
        ({"days": ()}, "days", "at least one day"),
        ({"days": ("0", "9")}, "days", "from the list"),
        ({"interval": "5m"}, "interval", "15 minutes to 8 hours"),
        ({"interval": None}, "interval", "15 minutes to 8 hours"),
        ({"window_start": "9am"}, "window_start", "first nudge"),
        ({"window_end": None}, "window_end", "nudges stop"),
        ({"tz": "Mars/Olympus"}, "tz", "Mars/Olympus"),
        ({"tz": ["Europe/Berlin"]}, "tz", "timezone"),
        ({"holidays": "XX"}, "holidays", "XX"),
        ({"holidays": 7}, "holidays", "country"),
        ({"seated": "yes"}, "seated", "Tick the box"),
    ],
)
def test_mistakes_land_next_to_their_input_and_nothing_runs(
    changes: dict[str, object], field: str, words: str
) -> None:
    result = read_submission(FORM_PARTS, values(**changes), REGISTRY)
    assert result.commands == ()
    assert field in result.errors, result.errors
    assert words in result.errors[field]


def test_user_text_in_a_mistake_cannot_form_markup() -> None:
    result = read_submission(FORM_PARTS, values(tz="<!channel> @here `x`"), REGISTRY)
    message = result.errors["tz"]
    assert "<!channel>" not in message and "@here" not in message


def test_every_input_has_a_kind_a_platform_can_show_and_a_unique_key() -> None:
    keys = [item.key for part in FORM_PARTS for item in part.inputs]
    assert len(keys) == len(set(keys))
    assert {item.kind for part in FORM_PARTS for item in part.inputs} <= set(InputKind)
    for part in FORM_PARTS:
        assert part.errors_on in {item.key for item in part.inputs}


def test_toggles_make_their_on_off_commands() -> None:
    assert SEATED.command({"seated": True}) == "seated on"
    assert SEATED.command({}) == "seated off"  # an unticked box sends nothing
    assert WEEKLY_BOARD.command({"weekly_board": False}) == "leaderboard weekly off"
