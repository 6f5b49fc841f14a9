"""The new surfaces under hostile signed payloads: a Home event, a DM, a mention, a modal
submission, a menu search and Home buttons with fields of the wrong type or shape answer
without a 5xx, change nothing, and ping no one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.scenario.conftest import BotDriver, key
from tests.scenario.surfaces import USER, answer_in, dm, open_home, settings_via_command

JUNK: list[Any] = [None, 5, "", "x" * 5000, ["U1"], {"id": "U1"}, "<!channel>", "U1\x00", True]


@pytest.mark.parametrize("junk", JUNK)
async def test_events_with_junk_fields_do_nothing(bot: BotDriver, junk: Any) -> None:
    im = bot.slack.surfaces.open_im(USER).id
    for event in (
        {"type": "app_home_opened", "user": junk, "channel": im, "tab": "home"},
        {"type": "app_home_opened", "user": USER, "channel": junk, "tab": junk},
        {**surface.message_im_event(user=USER, text="optout", channel=im), "text": junk},
        {**surface.message_im_event(user=junk, text="optout", channel=im)},
        {**surface.message_im_event(user=USER, text="optout", channel=im), "ts": junk},
        {
            **surface.app_mention_event(user=USER, text="<@UBOT> now", channel="C0001"),
            "channel": junk,
        },
        {**surface.app_mention_event(user=USER, text=junk, channel="C0001")}
        if not isinstance(junk, str)
        else {"type": "app_mention"},
    ):
        reply = await bot.post(payloads.event_callback_body(event, team_id="T0001"))
        assert reply.status < 500, (event, reply.text)
    await open_home(bot)  # a later, good event still works
    assert not await bot.services.breaks.is_opted_out(key(), USER)
    assert not bot.slack.messages_in("C0001")
    # Text that is no command gets a friendly answer in the DM, never an echo that pings.
    assert all("<!channel>" not in json.dumps(m) for m in bot.slack.messages_in(im))


async def test_a_dm_echoing_markup_cannot_ping(bot: BotDriver) -> None:
    channel = await dm(bot, "<!channel> <@U0002> <#C0002> every")
    [answer] = await answer_in(bot, channel)
    text = json.dumps(answer)
    assert "<!channel>" not in text and "<@U0002>" not in text


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p.update(view="not a view"),
        lambda p: p["view"].update(state=[1, 2]),
        lambda p: p["view"].update(state={"values": {"interval": {"stretch_form_interval": 5}}}),
        lambda p: p["view"].update(private_metadata={"c": "C0001"}),
        lambda p: p.update(user={"id": ["U0001"]}),
        lambda p: p["view"].update(private_metadata='{"c": "C0002"}'),  # not their channel
    ],
)
async def test_mangled_submissions_change_nothing(bot: BotDriver, mangle: Any) -> None:
    bot.slack.channels["C0001"].is_member = True
    bot.slack.surfaces.join(USER, "C0001")
    await bot.command("every 45m")
    before = await bot.services.storage.channels.get(key())
    view = await settings_via_command(bot)
    payload = surface.view_submission(view, {"interval": "30m"})
    mangle(payload)
    reply = await bot.post(payloads.interactivity_body(payload))
    assert reply.status < 500, reply.text
    assert await bot.services.storage.channels.get(key()) == before


@pytest.mark.parametrize("value", [None, 7, ["x"], "x" * 10_000, "\x00"])
async def test_menu_searches_with_junk(bot: BotDriver, value: Any) -> None:
    bot.slack.surfaces.join(USER, "C0001")
    view = await settings_via_command(bot)
    for action_id in ("stretch_form_tz", "stretch_form_holidays", "stretch_form_nope", 5):
        payload = surface.block_suggestion(view, action_id=action_id, block_id="tz", value=value)  # type: ignore[arg-type]
        reply = await bot.post(payloads.interactivity_body(payload))
        assert reply.status < 500, reply.text


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("stretch_home_page_next", "99999999999999999999"),
        ("stretch_home_page_next", "-1"),
        ("stretch_home_edit:<!channel>", "<!channel>"),
        ("stretch_home_seated:C0001", "seated sideways"),
        ("stretch_home_run_now", "admins-only on"),
    ],
)
async def test_home_buttons_with_forged_values(bot: BotDriver, action_id: str, value: str) -> None:
    await bot.command("every 45m")
    view = await open_home(bot)
    payload = surface.view_block_actions(view, action_id=action_id, value=value)
    payload["view"]["private_metadata"] = '{"dm": "<!here>", "page": "x"}'
    reply = await bot.post(payloads.interactivity_body(payload))
    assert reply.status < 500, reply.text
    state = await bot.services.storage.channels.get(key())
    assert state is not None and not state.seated_only
    workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id="T0001")
    assert workspace is not None and not workspace.admins_only
