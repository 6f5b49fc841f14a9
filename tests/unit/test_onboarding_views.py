"""The hello messages and the channel picker are pure data within Block Kit's limits, in every
language, and the limits checker knows a conversations select's rules."""

from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, use_locale
from bot.onboarding import channel_hello, installer_hello
from handlers.slack.blocks import reply_message
from handlers.slack.onboarding import installer_message
from handlers.slack.views.pick_channel import (
    CHANNEL_ACTION,
    CHANNEL_BLOCK,
    ME_ACTION,
    ME_BLOCK,
    Purpose,
    pick_channel_modal,
    read_pick,
    read_purpose,
)
from tests.fakes.block_kit import message_problems, view_problems


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_hellos_and_pickers_stay_within_limits(locale: str) -> None:
    with use_locale(locale):
        assert not message_problems(reply_message(channel_hello()))
        assert not message_problems(installer_message())
        for purpose in Purpose:
            view = pick_channel_modal(purpose)
            assert not view_problems(view), view
            assert read_purpose(view) is purpose


def test_the_hellos_offer_the_two_next_steps() -> None:
    assert [b.command for b in channel_hello().buttons] == ["settings", "now"]
    assert channel_hello().public
    assert [b.command for b in installer_hello().buttons] == ["now"]  # Slack adds the picker


def test_a_bad_conversation_filter_is_a_problem() -> None:
    view = pick_channel_modal(Purpose.BREAK)
    view["blocks"][1]["element"]["filter"]["include"] = ["everything"]
    assert any("filter/include" in p for p in view_problems(view))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, (None, False)),
        ({CHANNEL_BLOCK: {CHANNEL_ACTION: {"selected_conversation": "C0001"}}}, ("C0001", False)),
        ({ME_BLOCK: {ME_ACTION: {"selected_options": [{"value": "me"}]}}}, (None, True)),
        ({CHANNEL_BLOCK: {CHANNEL_ACTION: {"selected_conversation": "<!here>"}}}, (None, False)),
        ({CHANNEL_BLOCK: {CHANNEL_ACTION: {"selected_conversation": {"id": "C1"}}}}, (None, False)),
        ({CHANNEL_BLOCK: "C0001", ME_BLOCK: ["me"]}, (None, False)),
        ({ME_BLOCK: {ME_ACTION: {"selected_options": "me"}}}, (None, False)),
    ],
)
def test_reading_a_pick_takes_only_well_formed_values(
    values: dict[str, object], expected: tuple[str | None, bool]
) -> None:
    assert read_pick({"state": {"values": values}}) == expected
    assert read_pick({"state": "nonsense"}) == (None, False)
