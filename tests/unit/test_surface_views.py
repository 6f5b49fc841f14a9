"""Every new Slack view within Block Kit's documented limits (tests/fakes/block_kit.py): the Home
tab at any size, the settings modal for any channel, the answers of the searched menus, and the
messages the new commands answer with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.base import Button, Reply
from bot.home import HomeChannel, HomeSummary, next_nudge
from bot.ports import ChannelKey, ChannelState
from bot.schedules import ScheduleSpec, next_slot_after
from bot.settings_form import FORM_PARTS, FormDefaults, InputKind, SettingsForm, initial_values
from handlers.slack.blocks import reply_message
from handlers.slack.views.home import HomePlace, home_view
from handlers.slack.views.settings import (
    ModalPlace,
    read_values,
    search_options,
    settings_modal,
)
from tests.fakes.block_kit import message_problems, view_problems
from tests.fakes.slack_surface_payloads import filled_state

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LONG_SPEC = ScheduleSpec(
    interval=timedelta(minutes=50),
    tz="America/Argentina/ComodRivadavia",
    window_start=time(7, 5),
    window_end=time(19, 55),
    weekdays=frozenset({0, 2, 3, 6}),
    holidays="US",
)


def channel(n: int, **changes: Any) -> HomeChannel:
    state = ChannelState(
        key=ChannelKey("slack", "T1", f"C{n:09d}"),
        spec=LONG_SPEC,
        enabled=True,
        seated_only=n % 2 == 0,
        next_slot_at=next_slot_after(LONG_SPEC, NOW),
    )
    state = replace(state, **changes)
    return HomeChannel(state, next_nudge(state, NOW), week_breaks=n, streak=n % 7)


def summary(total: int, page: int = 0, *, listed: bool = True, **changes: Any) -> HomeSummary:
    shown = range(page * 20, min(total, page * 20 + 20))
    return HomeSummary(
        platform="slack",
        team_id="T1",
        person_id="U1",
        now=NOW,
        week_breaks=9999,
        moved_in=tuple((channel(n).key, n) for n in shown),
        best_streak=365,
        best_streak_channel=channel(0).key if total else None,
        channels=tuple(channel(n) for n in shown),
        total_channels=total,
        page=page,
        listed=listed,
        **changes,
    )


LONG_NOTICE = Reply(
    "x" * 2500 + "\n" + "<@U123> " * 400,
    buttons=tuple(Button("b" * 100, "forget-me confirm", "danger") for _ in range(8)),
)


@pytest.mark.parametrize(
    ("view_summary", "may_change", "notice"),
    [
        (summary(0), True, None),
        (summary(0, listed=False), True, LONG_NOTICE),
        (summary(5), True, None),
        (summary(500), True, LONG_NOTICE),
        (summary(500, page=24), True, LONG_NOTICE),
        (summary(500, page=3, admins_only=True, opted_out=True), False, LONG_NOTICE),
        (summary(41, page=2, listed=False, opted_out=True), True, Reply("ok")),
    ],
)
def test_home_views_stay_within_limits(
    view_summary: HomeSummary, may_change: bool, notice: Reply | None
) -> None:
    view = home_view(
        view_summary, place=HomePlace("D1", view_summary.page), may_change=may_change, notice=notice
    )
    assert view_problems(view) == []
    assert len(view["blocks"]) <= 60  # far from 100: room for later additions
    assert HomePlace.read(view["private_metadata"]) == HomePlace("D1", view_summary.page)


@settings(max_examples=40, deadline=None)
@given(total=st.integers(0, 5000), page=st.integers(0, 300), admins=st.booleans())
def test_any_number_of_channels_any_page(total: int, page: int, admins: bool) -> None:
    page = min(page, max(0, (total - 1) // 20))
    view = home_view(
        summary(total, page, admins_only=admins),
        place=HomePlace("D1", page),
        may_change=not admins,
        notice=LONG_NOTICE,
    )
    assert view_problems(view) == []


def test_paused_and_off_channels_render() -> None:
    paused = channel(1, paused=True, paused_until=NOW + timedelta(days=400))
    forever = channel(2, paused=True)
    off = channel(3, enabled=False, next_slot_at=None)
    view_summary = replace(summary(3), channels=(paused, forever, off))
    view = home_view(view_summary, place=HomePlace(), may_change=True)
    assert view_problems(view) == []
    text = str(view["blocks"])
    assert "Paused until <!date^" in text and "Paused until someone resumes it." in text
    assert "Off for now." in text


@pytest.mark.parametrize(
    "state",
    [
        ChannelState(key=ChannelKey("slack", "T1", "C1")),
        ChannelState(
            key=ChannelKey("slack", "T1", "C1"),
            spec=LONG_SPEC,
            enabled=True,
            seated_only=True,
            weekly_board=False,
        ),
    ],
)
def test_the_settings_modal_stays_within_limits(state: ChannelState) -> None:
    values = initial_values(FORM_PARTS, state, FormDefaults(tz="Pacific/Chatham"))
    form = SettingsForm(channel=state.key, values=values, parts=FORM_PARTS)
    place = ModalPlace("C1", HomePlace("D" + "9" * 40, 9_999))
    view = settings_modal(form, place=place)
    assert view_problems(view) == []
    assert ModalPlace.read(view["private_metadata"]) == place
    # Submitting it untouched reads back the values it opened with.
    assert read_values(form.inputs, filled_state(view, {})) == values


@pytest.mark.parametrize("typed", ["", "a", "e", "america", "x" * 500, "<&>", "中国"])
def test_menu_answers_are_valid_options(typed: str) -> None:
    for kind in (InputKind.TIMEZONE, InputKind.COUNTRY):
        options = search_options(kind, typed)
        assert len(options) <= 100
        menu = {
            "type": "static_select",
            "action_id": "menu",
            "options": options or [{"text": {"type": "plain_text", "text": "-"}, "value": "-"}],
        }
        view = {"type": "home", "blocks": [{"type": "actions", "elements": [menu]}]}
        assert view_problems(view) == []


@pytest.mark.parametrize(
    "metadata", [None, "", "{", "[]", '{"c": 5}', '{"c": "C1", "h": "x"}', '{"c": "X1"}']
)
def test_unreadable_metadata_names_no_channel_or_no_home(metadata: object) -> None:
    place = ModalPlace.read(metadata)
    assert place is None or (place.channel_id == "C1" and place.home is None)
    assert HomePlace.read(metadata) == HomePlace()


def test_answers_with_buttons_are_valid_messages() -> None:
    status = Reply("Movement breaks here: ...", buttons=(Button("Edit schedule", "settings"),))
    assert message_problems(reply_message(status)) == []
    assert message_problems(reply_message(LONG_NOTICE)) == []
