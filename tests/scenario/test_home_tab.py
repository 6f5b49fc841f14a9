"""The Home tab over real HTTP against the fake Slack: `app_home_opened` -> `views.publish`,
a page of channels at a time for people in hundreds of them, its buttons, and what happens
when Slack cannot list a person's channels."""

from __future__ import annotations

from datetime import timedelta

from bot.ports import ChannelState
from bot.schedules import ScheduleSpec, next_slot_after
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import view_problems
from tests.scenario.conftest import BotDriver, key
from tests.scenario.surfaces import (
    USER,
    action_ids,
    answer_in,
    interact,
    open_home,
    opened_modal,
    press_in_home,
    published,
    texts,
)

SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")


async def scheduled(bot: BotDriver, *channels: str, member: bool = True) -> None:
    """Channels with a schedule (saved directly: the listing is what the test is about)."""
    now = bot.clock()
    for index, channel in enumerate(channels):
        if channel not in bot.slack.channels:
            bot.slack.add_channel(channel, member=member)
        spec = ScheduleSpec(interval=timedelta(minutes=15 + index % 60), tz="Europe/Berlin")
        await bot.services.storage.channels.save(
            ChannelState(
                key=key(channel), spec=spec, enabled=True, next_slot_at=next_slot_after(spec, now)
            )
        )


async def test_opening_home_shows_the_week_the_streak_and_the_channels(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays")
    bot.slack.surfaces.join(USER, "C0001", "C0002")
    view = await open_home(bot)
    assert not view_problems(view)
    words = texts(view)
    assert "Your movement breaks" in words
    assert "No breaks logged this week yet" in words
    assert "<#C0001>" in words and "<#C0002>" not in words  # C0002 has no schedule
    assert "Every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin)" in words
    assert "Next nudge: <!date^" in words
    assert "stretch_home_edit:C0001" in action_ids(view)
    assert "stretch_home_run_now" in action_ids(view)
    [listing] = bot.slack.calls_to("users.conversations")
    assert listing.params["user"] == USER
    assert listing.params["types"] == "public_channel,private_channel"


async def test_the_messages_tab_publishes_nothing(bot: BotDriver) -> None:
    dm = bot.slack.surfaces.open_im(USER).id
    await bot.event(surface.app_home_opened_event(user=USER, channel=dm, tab="messages"))
    await open_home(bot)  # a later Home opening is the only publish
    assert len(bot.slack.calls_to("views.publish")) == 1


async def test_five_hundred_channels_page_by_twenty_within_block_kits_limits(
    bot: BotDriver,
) -> None:
    channels = [f"C1{n:04d}" for n in range(500)]
    await scheduled(bot, *channels)
    bot.slack.surfaces.join(USER, *channels)
    bot.slack.surfaces.page_size = 200  # Slack may answer fewer than asked: follow the cursor
    view = await open_home(bot)
    assert len(bot.slack.calls_to("users.conversations")) == 3
    assert not view_problems(view) and len(view["blocks"]) <= 100
    shown = [a for a in action_ids(view) if a.startswith("stretch_home_edit:")]
    assert len(shown) == 20
    assert "500 channels, soonest nudge first; showing 1–20." in texts(view)
    assert "stretch_home_page_prev" not in action_ids(view)
    seen = set(shown)
    for page in range(1, 25):
        view = await press_in_home(bot, view, "stretch_home_page_next")
        assert f"showing {page * 20 + 1}–{page * 20 + 20}." in texts(view)
        assert not view_problems(view)
        seen |= {a for a in action_ids(view) if a.startswith("stretch_home_edit:")}
    assert "stretch_home_page_next" not in action_ids(view)  # the last page
    assert len(seen) == 500
    view = await press_in_home(bot, view, "stretch_home_page_prev")
    assert "showing 461–480." in texts(view)
    # One listing served every page: it is cached for the visit.
    assert len(bot.slack.calls_to("users.conversations")) == 3


async def test_take_a_break_now_posts_it_in_the_messages_tab(bot: BotDriver) -> None:
    view = await open_home(bot)
    dm = bot.slack.surfaces.open_im(USER).id
    view = await press_in_home(bot, view, "stretch_home_run_now")
    [nudge] = await answer_in(bot, dm)
    assert "Movement break" in nudge["text"]
    assert "Your break is in the Messages tab" in texts(view)
    # Its Done button counts a break like any nudge's.
    await bot.press_done(user=USER, ts=nudge["ts"], channel=dm)
    assert await bot.breaks(dm) == {USER: 1}
    view = await open_home(bot)
    assert "This week: 1 break in 1 channel." in texts(view)


async def test_opting_out_and_back_in_from_home(bot: BotDriver) -> None:
    view = await open_home(bot)
    view = await press_in_home(bot, view, "stretch_home_run_opt")
    assert "You're opted out in this workspace" in texts(view)
    assert await bot.services.breaks.is_opted_out(key(), USER)
    assert "Opt back in" in texts(view)
    view = await press_in_home(bot, view, "stretch_home_run_opt")
    assert "Welcome back" in texts(view)
    assert not await bot.services.breaks.is_opted_out(key(), USER)


async def test_a_home_button_runs_only_its_own_commands(bot: BotDriver) -> None:
    view = await open_home(bot)
    payload = surface.view_block_actions(
        view, action_id="stretch_home_run_now", value="every 15m", user=USER
    )
    await interact(bot, payload)
    await open_home(bot)  # anything the forged press did would have happened by now
    assert await bot.services.storage.channels.get(key(bot.slack.surfaces.open_im(USER).id)) is None


async def test_seated_only_from_home_tells_the_channel(bot: BotDriver) -> None:
    await bot.command("every 45m")
    bot.slack.channels["C0001"].is_member = True
    bot.slack.surfaces.join(USER, "C0001")
    view = await open_home(bot)
    view = await press_in_home(bot, view, "stretch_home_seated:C0001")
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.seated_only
    [posted] = await answer_in(bot, "C0001")
    assert "only suggest exercises you can do sitting down" in posted["text"]
    assert "Standing exercises too" in texts(view)
    assert "Seated exercises only." in texts(view)


async def test_edit_schedule_opens_the_modal_of_that_channel(bot: BotDriver) -> None:
    await bot.command("every 1h 10:00-16:00 mon,wed,fri tz Asia/Tokyo")
    bot.slack.surfaces.join(USER, "C0001")
    view = await open_home(bot)
    await press_in_home_no_publish(bot, view, "stretch_home_edit:C0001")
    _call, modal = await opened_modal(bot)
    assert modal["callback_id"] == "stretch_settings"
    assert '"c":"C0001"' in modal["private_metadata"]
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    assert blocks["interval"]["element"]["initial_option"]["value"] == "1h"
    assert blocks["tz"]["element"]["initial_option"]["value"] == "Asia/Tokyo"
    assert blocks["window_start"]["element"]["initial_time"] == "10:00"


async def press_in_home_no_publish(bot: BotDriver, view: dict, action_id: str) -> None:
    trigger = bot.slack.surfaces.issue_trigger(USER)
    await interact(bot, surface.press(view, action_id, trigger_id=trigger))


async def test_edit_for_a_channel_the_person_is_not_in_is_refused(bot: BotDriver) -> None:
    await bot.command("every 45m")
    view = await open_home(bot)  # U0001 is in no channel here
    forged = surface.view_block_actions(
        view, action_id="stretch_home_edit:C0001", value="C0001", user=USER
    )
    before = len(bot.slack.calls_to("views.publish"))
    await interact(bot, forged)
    view = await published(bot, after=before)
    assert "I can't see you in that channel" in texts(view)
    assert not bot.slack.calls_to("views.open")


async def test_admins_only_hides_the_switches_from_others(bot: BotDriver) -> None:
    bot.slack.set_user("UADMIN", is_admin=True)
    await bot.command("every 45m", user="UADMIN")
    await bot.command("admins-only on", user="UADMIN")
    bot.slack.surfaces.join(USER, "C0001")
    bot.slack.surfaces.join("UADMIN", "C0001")
    view = await open_home(bot)
    assert not [
        a for a in action_ids(view) if a.startswith(("stretch_home_edit", "stretch_home_seated"))
    ]
    assert "Only workspace admins and owners can change schedules here" in texts(view)
    view = await open_home(bot, "UADMIN")
    assert "stretch_home_edit:C0001" in action_ids(view)


async def test_without_slacks_listing_home_shows_where_the_person_moved(bot: BotDriver) -> None:
    await bot.command("every 45m")
    bot.slack.channels["C0001"].is_member = True
    await bot.command("now", wait_reply=False)
    [nudge] = await answer_in(bot, "C0001")
    await bot.press_done(user=USER, ts=nudge["ts"])
    bot.slack.rate_limit("users.conversations", times=1, retry_after=30)
    view = await open_home(bot)
    assert "I couldn't get your channel list from Slack just now" in texts(view)
    assert "<#C0001>" in texts(view)
    assert "This week: 1 break in 1 channel." in texts(view)
    # The 429 paused listings for this workspace: no second call within its Retry-After.
    await open_home(bot)
    assert len(bot.slack.calls_to("users.conversations")) == 1


async def test_a_refused_publish_is_logged_and_the_bot_carries_on(bot: BotDriver) -> None:
    bot.slack.fail_with_error("views.publish", "invalid_arguments")
    dm = bot.slack.surfaces.open_im(USER).id
    await bot.event(surface.app_home_opened_event(user=USER, channel=dm))
    await bot.slack.wait_for("views.publish")
    view = await open_home(bot, count=1)
    assert "Your movement breaks" in texts(view)


async def test_home_events_with_junk_ids_publish_nothing(bot: BotDriver) -> None:
    for user, channel in (("not-a-user", "D1"), ({"id": "U1"}, "D1"), (None, "D1")):
        await bot.event(
            {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home"}
        )
    await open_home(bot)
    assert [call.params["user_id"] for call in bot.slack.calls_to("views.publish")] == [USER]


async def test_the_home_tab_is_in_the_persons_language(bot: BotDriver) -> None:
    bot.slack.set_user(USER, tz="Europe/Berlin", locale="ja-JP")
    await bot.command("every 45m 09:00-17:00 weekdays")
    bot.slack.surfaces.join(USER, "C0001")
    view = await open_home(bot)
    assert not view_problems(view)
    words = texts(view)
    assert "あなたの運動休憩" in words, words
    assert "45分ごと、09:00–17:00、平日（Europe/Berlin）。" in words
    assert "今すぐ休憩する" in words
