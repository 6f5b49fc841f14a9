"""The "Take a movement break" global shortcut over real HTTP: it opens a small modal; picking a
channel posts a break there (or says in the modal why it can't), "Just me" DMs the person one.
The installer hello's "Set a schedule" uses the same picker, then the channel's settings form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.slack.onboarding import installer_message
from handlers.slack.views.pick_channel import (
    BREAK_SHORTCUT,
    CHANNEL_BLOCK,
    ME_BLOCK,
    PICK_SCHEDULE_ACTION,
    Purpose,
    pick_channel_modal,
)
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import message_problems, view_problems
from tests.scenario.conftest import BotDriver, eventually
from tests.scenario.surfaces import USER, interact, opened_modal, submit


@pytest.fixture
async def member(bot: BotDriver) -> BotDriver:
    """U0001 is in C0001 (the bot too) and in private C0003 (the bot is not)."""
    bot.slack.channels["C0001"].is_member = True
    private = bot.slack.add_channel("C0003", name="secret", member=False)
    private.is_private = True
    bot.slack.surfaces.join(USER, "C0001", "C0003")
    return bot


async def open_shortcut(bot: BotDriver, user: str = USER) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    trigger = bot.slack.surfaces.issue_trigger(user)
    await interact(
        bot, surface.global_shortcut(callback_id=BREAK_SHORTCUT, user=user, trigger_id=trigger)
    )
    _call, view = await opened_modal(bot, after=before)
    return view


def nudges(bot: BotDriver, channel: str) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages_in(channel) if m["text"].startswith("Movement break")]


def test_the_pickers_and_the_installer_hello_are_within_block_kits_limits() -> None:
    for purpose in Purpose:
        assert not view_problems(pick_channel_modal(purpose))
    message = installer_message()
    assert not message_problems(message)
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["action_id"] == PICK_SCHEDULE_ACTION


async def test_the_shortcut_opens_the_picker(member: BotDriver) -> None:
    view = await open_shortcut(member)
    assert view["title"]["text"] == "Take a break"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[CHANNEL_BLOCK]["element"]["type"] == "conversations_select"
    assert blocks[ME_BLOCK]["element"]["type"] == "checkboxes"


async def test_picking_a_channel_posts_a_break_there(member: BotDriver) -> None:
    bot = member
    view = await open_shortcut(bot)
    ack = await submit(bot, view, {CHANNEL_BLOCK: "C0001"})
    assert ack == {"response_action": "clear"}

    async def posted() -> list[dict[str, Any]]:
        return nudges(bot, "C0001")

    [nudge] = await eventually(posted, what="the break in C0001")
    assert any(b.get("block_id") == "stretch_nudge" for b in nudge["blocks"])
    # It is a real nudge: a ✅ on it logs a break.
    await bot.react(user=USER, ts=nudge["ts"])

    async def counted() -> dict[str, int]:
        return await bot.breaks("C0001")

    assert await eventually(counted, what="the break") == {USER: 1}


async def test_a_public_channel_the_bot_is_not_in_is_joined(member: BotDriver) -> None:
    bot = member
    bot.slack.channels["C0002"].is_member = False
    bot.slack.surfaces.join(USER, "C0002")
    ack = await submit(bot, await open_shortcut(bot), {CHANNEL_BLOCK: "C0002"})
    assert ack == {"response_action": "clear"}
    assert bot.slack.calls_to("conversations.join")

    async def posted() -> list[dict[str, Any]]:
        return nudges(bot, "C0002")

    await eventually(posted, what="the break in C0002")


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({CHANNEL_BLOCK: "C0003"}, CHANNEL_BLOCK, "`/invite @stretchbot`"),  # bot not in it
        ({CHANNEL_BLOCK: "C0002"}, CHANNEL_BLOCK, "I can't see you in that channel"),
        ({}, CHANNEL_BLOCK, "Pick a channel, or tick"),
        ({CHANNEL_BLOCK: "C0001", ME_BLOCK: ["me"]}, ME_BLOCK, "Either a channel or just you"),
    ],
)
async def test_a_pick_that_cannot_work_is_answered_in_the_modal(
    member: BotDriver, values: dict[str, Any], field: str, words: str
) -> None:
    bot = member
    bot.slack.channels["C0002"].is_member = True  # the bot is in C0002, U0001 is not
    ack = await submit(bot, await open_shortcut(bot), values)
    assert ack is not None and ack["response_action"] == "errors", ack
    assert list(ack["errors"]) == [field] and words in ack["errors"][field]
    assert not bot.slack.calls_to("chat.postMessage")


async def test_just_me_dms_the_person_a_break(member: BotDriver) -> None:
    bot = member
    ack = await submit(bot, await open_shortcut(bot), {ME_BLOCK: ["me"]})
    assert ack == {"response_action": "clear"}
    [opened] = await bot.slack.wait_for("conversations.open")
    assert opened.params["users"] == USER
    dm = bot.slack.surfaces.open_im(USER).id

    async def posted() -> list[dict[str, Any]]:
        return nudges(bot, dm)

    [nudge] = await eventually(posted, what="the break in the DM")
    assert not nudges(bot, "C0001")
    await bot.react(user=USER, ts=nudge["ts"], channel=dm)

    async def counted() -> dict[str, int]:
        return await bot.breaks(dm)

    assert await eventually(counted, what="the break") == {USER: 1}


async def test_a_tampered_submission_changes_nothing(member: BotDriver) -> None:
    bot = member
    view = await open_shortcut(bot)
    for metadata in ("", "nonsense", '{"c": "C0001"}'):
        tampered = dict(view, private_metadata=metadata)
        ack = await submit(bot, tampered, {CHANNEL_BLOCK: "C0001"})
        assert ack is not None and ack["response_action"] == "errors"
    odd = surface.view_submission(view, {CHANNEL_BLOCK: "C0001"})
    odd["view"]["state"]["values"][CHANNEL_BLOCK] = {"x": {"selected_conversation": ["C0001"]}}
    reply = await interact(bot, odd)
    assert json.loads(reply.text)["response_action"] == "errors"
    assert not bot.slack.calls_to("chat.postMessage")


async def test_the_installer_hellos_set_a_schedule_picks_then_opens_the_form(
    member: BotDriver,
) -> None:
    bot = member
    dm = bot.slack.surfaces.open_im(USER).id
    message = {"ts": "1700000000.000100", **installer_message()}
    press = surface.view_block_actions(
        {"id": "V0"},
        action_id=PICK_SCHEDULE_ACTION,
        value="schedule",
        trigger_id=bot.slack.surfaces.issue_trigger(USER),
    )
    press["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": dm}
    press["channel"] = {"id": dm, "name": "directmessage"}
    press.pop("view")
    await interact(bot, press)
    _call, picker = await opened_modal(bot)
    assert picker["title"]["text"] == "Set a schedule"
    ack = await submit(bot, picker, {CHANNEL_BLOCK: "C0001"})
    assert ack is not None and ack["response_action"] == "update", ack
    form = ack["view"]
    assert not view_problems(form)
    assert form["callback_id"] == "stretch_settings"
    assert json.loads(form["private_metadata"]) == {"c": "C0001"}
    # A channel the person is not in: said next to the channel, nothing opens.
    picker_again = dict(picker)
    bot.slack.channels["C0002"].is_member = True
    ack = await submit(bot, picker_again, {CHANNEL_BLOCK: "C0002"})
    assert ack is not None and ack["response_action"] == "errors"
    assert "can't see you in that channel" in ack["errors"][CHANNEL_BLOCK]


async def test_just_me_without_a_dm_says_so(member: BotDriver) -> None:
    bot = member
    bot.slack.fail_with_error("conversations.open", "missing_scope")  # installed before im:write
    ack = await submit(bot, await open_shortcut(bot), {ME_BLOCK: ["me"]})
    assert ack == {"response_action": "clear"}
    dm = bot.slack.surfaces.open_im(USER).id

    async def told() -> list[dict[str, Any]]:
        return bot.slack.messages_in(dm)

    [message] = await eventually(told, what="the answer in the DM")
    assert "couldn't open our conversation" in message["text"]
    assert not nudges(bot, dm)
