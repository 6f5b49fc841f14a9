"""The schedule modal over real HTTP: `/stretch settings` (and the Edit schedule buttons) open it
with `views.open`; a submission saves exactly what `/stretch every ...` saves and posts the same
confirmation, and a mistake answers `response_action: errors` and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import view_problems
from tests.scenario.conftest import TEAM, BotDriver, eventually, key
from tests.scenario.surfaces import (
    USER,
    answer_in,
    interact,
    opened_modal,
    settings_via_command,
    submit,
)


@pytest.fixture
async def member(bot: BotDriver) -> BotDriver:
    """U0001 is in C0001 and C0002, and the bot too."""
    for channel in ("C0001", "C0002"):
        bot.slack.channels[channel].is_member = True
    bot.slack.surfaces.join(USER, "C0001", "C0002")
    return bot


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


async def test_settings_opens_a_modal_filled_in_from_the_person(member: BotDriver) -> None:
    bot = member
    view = await settings_via_command(bot)
    assert not view_problems(view)
    assert view["title"]["text"] == "Channel schedule"
    fields = inputs(view)
    assert list(fields) == [
        "interval",
        "window_start",
        "window_end",
        "days",
        "tz",
        "holidays",
        "seated",
        "weekly_board",
        "language",
    ]
    assert fields["interval"]["element"]["initial_option"]["value"] == "45m"
    assert fields["window_start"]["element"]["initial_time"] == "09:00"
    assert fields["tz"]["element"]["type"] == "external_select"
    assert fields["tz"]["element"]["initial_option"]["value"] == "Europe/Berlin"  # users.info
    assert [o["value"] for o in fields["days"]["element"]["initial_options"]] == list("01234")
    assert fields["holidays"]["optional"] and "initial_option" not in fields["holidays"]["element"]
    assert not bot.slack.responses  # the modal is the answer: nothing in the channel


async def test_a_submission_saves_exactly_what_the_text_command_saves(member: BotDriver) -> None:
    bot = member
    text = "every 1h30m 08:00-18:00 mon,wed,fri tz Asia/Tokyo holidays JP"
    typed = await bot.command(text, channel="C0002")
    assert typed is not None and typed["response_type"] == "in_channel"
    view = await settings_via_command(bot)
    ack = await submit(
        bot,
        view,
        {
            "interval": "1h30m",
            "window_start": "08:00",
            "window_end": "18:00",
            "days": ["0", "2", "4"],
            "tz": "Asia/Tokyo",
            "holidays": "JP",
        },
    )
    assert ack == {"response_action": "clear"}
    [confirmation] = await answer_in(bot, "C0001")
    saved = await bot.services.storage.channels.get(key("C0001"))
    by_text = await bot.services.storage.channels.get(key("C0002"))
    assert saved is not None and by_text is not None
    assert saved.spec == by_text.spec and saved.spec is not None
    assert saved.spec.to_text() == text
    assert (saved.enabled, saved.next_slot_at, saved.next_board_at) == (
        by_text.enabled,
        by_text.next_slot_at,
        by_text.next_board_at,
    )
    assert confirmation["text"] == typed["text"]  # the same public confirmation
    assert "scheduled movement breaks here" in confirmation["text"]


async def test_a_mistake_answers_errors_and_keeps_the_old_schedule(member: BotDriver) -> None:
    bot = member
    await bot.command("every 45m 09:00-17:00 weekdays tz Europe/Berlin")
    before = await bot.services.storage.channels.get(key())
    view = await settings_via_command(bot)
    ack = await submit(bot, view, {"window_start": "17:00", "window_end": "09:00", "days": []})
    assert ack is not None and ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"days"}  # the schedule part stops at its first mistake
    ack = await submit(bot, view, {"window_start": "17:00", "window_end": "09:00"})
    assert ack is not None and ack["response_action"] == "errors"
    assert "must end after it starts" in ack["errors"]["window_end"]
    ack = await submit(
        bot, view, {"window_start": "16:30", "window_end": "17:00", "seated": ["on"]}
    )
    assert ack is not None and "No nudge would fit" in ack["errors"]["window_end"]
    assert await bot.services.storage.channels.get(key()) == before  # seated included
    assert not bot.slack.messages_in("C0001")


@pytest.mark.parametrize(
    "junk",
    [
        {"interval": "5m"},
        {"tz": "Mars/Olympus"},
        {"holidays": "XX"},
        {"interval": None},
        {"days": ["0", "mon"]},
    ],
)
async def test_forged_values_are_refused_like_mistakes(member: BotDriver, junk: dict) -> None:
    bot = member
    await bot.command("every 45m")
    before = await bot.services.storage.channels.get(key())
    view = await settings_via_command(bot)
    ack = await submit(bot, view, junk)
    assert ack is not None and ack["response_action"] == "errors"
    assert set(ack["errors"]) == set(junk)
    assert await bot.services.storage.channels.get(key()) == before


async def test_a_submission_in_pieces_of_the_wrong_shape_changes_nothing(member: BotDriver) -> None:
    bot = member
    await bot.command("every 45m")
    before = await bot.services.storage.channels.get(key())
    view = await settings_via_command(bot)
    payload = surface.view_submission(view, {})
    payload["view"]["state"] = {"values": {"interval": "45m", "days": {"x": 1}, "tz": None}}
    reply = await interact(bot, payload)
    assert reply.status == 200 and '"response_action":"errors"' in reply.text.replace(" ", "")
    for metadata in ("", "{", '{"c": "not a channel"}', '["C0001"]', '{"c": {"id": "C1"}}'):
        payload = surface.view_submission(view, {})
        payload["view"]["private_metadata"] = metadata
        reply = await interact(bot, payload)
        assert "lost track of its channel" in reply.text
    assert await bot.services.storage.channels.get(key()) == before


async def test_only_the_changed_parts_run(member: BotDriver) -> None:
    bot = member
    await bot.command("every 45m")
    view = await settings_via_command(bot)
    assert await submit(bot, view, {"weekly_board": []}) == {"response_action": "clear"}
    [posted] = await answer_in(bot, "C0001")
    assert "The weekly leaderboard is off here" in posted["text"]
    assert "scheduled movement breaks" not in posted["text"]
    view = await settings_via_command(bot)
    assert await submit(bot, view, {}) == {"response_action": "clear"}

    async def nothing_changed() -> bool:
        return any("Nothing changed" in e["text"] for e in bot.slack.ephemerals)

    assert await eventually(nothing_changed)
    assert len(bot.slack.messages_in("C0001")) == 1


async def test_someone_not_in_the_channel_cannot_save_it(member: BotDriver) -> None:
    bot = member
    bot.slack.set_user("U0002", tz="UTC")
    await bot.command("every 45m")
    before = await bot.services.storage.channels.get(key())
    view = await settings_via_command(bot)
    ack = await submit(bot, view, {"interval": "30m"}, user="U0002")  # a forged submitter
    assert ack is not None and "I can't see you in that channel" in ack["errors"]["interval"]
    assert await bot.services.storage.channels.get(key()) == before


async def test_admins_only_refuses_the_form_to_others(member: BotDriver) -> None:
    bot = member
    bot.slack.set_user("UADMIN", is_admin=True)
    await bot.command("admins-only on", user="UADMIN")
    reply = await bot.command("settings")
    assert reply is not None and "Only workspace admins and owners" in reply["text"]
    assert not bot.slack.calls_to("views.open")
    bot.slack.surfaces.join("UADMIN", "C0001")
    view = await settings_via_command(bot, user="UADMIN")
    # The rule is checked again on submit: it may have been switched on meanwhile.
    bot.slack.set_user("UADMIN", is_admin=False)
    ack = await submit(bot, view, {}, user="UADMIN")
    assert ack is not None and "Only workspace admins" in ack["errors"]["interval"]


async def test_an_expired_trigger_answers_with_the_button_instead(member: BotDriver) -> None:
    bot = member
    body = payloads.slash_command_body(
        text="settings",
        team_id=TEAM,
        channel_id="C0001",
        user_id=USER,
        response_url=bot.slack.response_url("late"),
        trigger_id=bot.slack.surfaces.issue_trigger(USER, age=4.0),
    )
    assert (await bot.post(body)).status == 200
    answer = await bot.response("late")
    [call] = bot.slack.calls_to("views.open")
    assert call.response["error"] == "expired_trigger_id"
    assert "Press the button to edit this channel's schedule" in answer["text"]
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["value"] == "settings"
    # The button brings a fresh trigger: the modal opens.
    press = payloads.block_actions_body(
        action_id=button["action_id"],
        value="settings",
        message_ts="1700000000.000100",
        channel_id="C0001",
        response_url=bot.slack.response_url("pressed"),
        trigger_id=bot.slack.surfaces.issue_trigger(USER),
        ephemeral=True,
    )
    assert (await bot.post(press)).status == 200
    _call, view = await opened_modal(bot, after=1)
    assert view["callback_id"] == "stretch_settings"


async def test_status_offers_edit_schedule(member: BotDriver) -> None:
    bot = member
    await bot.command("every 45m")
    status = await bot.command("status")
    assert status is not None
    [actions] = [b for b in status["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("Edit schedule", "settings")
    ]


async def test_time_zone_and_country_menus_search(member: BotDriver) -> None:
    bot = member
    view = await settings_via_command(bot)

    async def search(block: str, typed: str) -> list[dict]:
        payload = surface.block_suggestion(
            view, action_id=f"stretch_form_{block}", block_id=block, value=typed
        )
        reply = await interact(bot, payload)
        options: list[dict] = json.loads(reply.text)["options"]
        return options

    zones = await search("tz", "berl")
    assert zones[0]["value"] == "Europe/Berlin"
    assert len(await search("tz", "a")) == 100  # at most a menu's 100
    assert await search("tz", "<!channel>") == []
    countries = await search("holidays", "germ")
    assert [o["value"] for o in countries] == ["none", "DE"]
    assert countries[1]["text"]["text"] == "Germany (DE)"
    assert [o["value"] for o in await search("holidays", "jp")][1:] == ["JP"]
    # "No holidays" clears the country: saved as a schedule without holidays.
    await bot.command("every 45m holidays US")
    view = await settings_via_command(bot)
    assert inputs(view)["holidays"]["element"]["initial_option"]["value"] == "US"
    assert await submit(bot, view, {"holidays": "none"}) == {"response_action": "clear"}
    await answer_in(bot, "C0001")
    saved = await bot.services.storage.channels.get(key())
    assert saved is not None and saved.spec is not None and saved.spec.holidays is None


async def test_the_form_sets_the_channels_language(member: BotDriver) -> None:
    bot = member
    bot.slack.set_user(USER, tz="Europe/Berlin", locale="de-DE")
    await bot.command("every 45m")  # the channel speaks German, like who scheduled it
    view = await settings_via_command(bot)
    assert inputs(view)["language"]["element"]["initial_option"]["value"] == "de"
    assert inputs(view)["language"]["label"]["text"] == "Sprache"  # the form is in German too
    assert await submit(bot, view, {"language": "fr"}) == {"response_action": "clear"}
    [posted] = await answer_in(bot, "C0001")
    assert "Je parlerai désormais Français dans ce canal" in posted["text"], posted["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.language == "fr"
