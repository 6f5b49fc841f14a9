"""Words written to the bot over real HTTP: a DM in its Messages tab (`message.im`) answers like
/stretch where that makes sense; `@stretchbot words` in a channel (`app_mention`) runs them
there as the person's command. Both ack at once and never answer the bot's own messages."""

from __future__ import annotations

import pytest

from tests.fakes import slack_surface_payloads as surface
from tests.scenario.conftest import BotDriver, eventually, key
from tests.scenario.surfaces import USER, answer_in, dm, open_home


async def test_help_in_a_dm_is_answered_in_the_dm(bot: BotDriver) -> None:
    channel = await dm(bot, "help")
    [answer] = await answer_in(bot, channel)
    assert "stretchbot posts short movement breaks" in answer["text"]
    assert "/stretch settings" in answer["text"]


async def test_stats_in_a_dm_covers_every_channel(bot: BotDriver) -> None:
    for channel in ("C0001", "C0002"):
        bot.slack.channels[channel].is_member = True
        await bot.command("every 45m", channel=channel)
        await bot.command("now", channel=channel, wait_reply=False)
    nudges = [(await answer_in(bot, channel))[0] for channel in ("C0001", "C0002")]
    for channel, nudge in zip(("C0001", "C0002"), nudges, strict=True):
        await bot.press_done(user=USER, ts=nudge["ts"], channel=channel)
    channel = await dm(bot, "stats")
    [answer] = await answer_in(bot, channel)
    assert "This week: 2 breaks in 2 channels." in answer["text"]
    assert "<#C0001>" in answer["text"] and "<#C0002>" in answer["text"]
    # `stats #channel`: that channel's own figures.
    bot.slack.surfaces.open_im(USER)
    await dm(bot, "stats <#C0002|random>")
    answers = await answer_in(bot, channel, count=2)
    assert "Your breaks in this channel: 1 break this week" in answers[1]["text"]


async def test_a_channel_word_in_a_dm_points_to_a_channel(bot: BotDriver) -> None:
    channel = await dm(bot, "every 45m 09:00-17:00")
    [answer] = await answer_in(bot, channel)
    assert "`every` works in a channel" in answer["text"]
    assert "stretchbot posts short movement breaks" in answer["text"]  # and the help
    assert await bot.services.storage.channels.get(key(channel)) is None


@pytest.mark.parametrize("text", ["optout", "<@UBOT> optout", "stretch optout", "/stretch optout"])
async def test_the_same_words_with_or_without_the_bot_or_stretch(bot: BotDriver, text: str) -> None:
    channel = await dm(bot, text)
    [answer] = await answer_in(bot, channel)
    assert "You're opted out" in answer["text"]
    assert await bot.services.breaks.is_opted_out(key(), USER)


async def test_the_bots_own_messages_edits_and_subtypes_get_no_answer(bot: BotDriver) -> None:
    im = bot.slack.surfaces.open_im(USER).id
    for event in (
        surface.message_im_event(user="UBOT", text="help", channel=im),
        surface.message_im_event(user=USER, text="help", channel=im, bot_id="BBOT"),
        surface.message_im_event(user=USER, text="help", channel=im, subtype="message_changed"),
        surface.message_im_event(user=USER, text="help", channel=im, subtype="bot_message"),
        {**surface.message_im_event(user=USER, text="help", channel=im), "channel_type": "channel"},
        surface.message_im_event(user="not-a-user", text="help", channel=im),
    ):
        await bot.event(event)
    await dm(bot, "optin")  # answered: everything before it was ignored
    [answer] = await answer_in(bot, im)
    assert "Welcome back" in answer["text"]


async def test_a_redelivered_dm_is_answered_once(bot: BotDriver) -> None:
    im = bot.slack.surfaces.open_im(USER).id
    event = surface.message_im_event(user=USER, text="help", channel=im, ts="1700000001.000100")
    await bot.event(event)
    await bot.event(event, retry_num=1)
    await answer_in(bot, im)
    await dm(bot, "optin")
    answers = await answer_in(bot, im, count=2)
    assert len(answers) == 2 and "Welcome back" in answers[1]["text"]


async def test_a_mention_runs_the_command_in_the_channel_answering_in_the_thread(
    bot: BotDriver,
) -> None:
    bot.slack.channels["C0001"].is_member = True
    ts = "1700000002.000200"
    reply = await bot.event(
        surface.app_mention_event(
            user=USER, text="<@UBOT> every 30m 09:00-12:00", channel="C0001", ts=ts
        )
    )
    assert reply.elapsed < 1.0 and reply.text in ("", "{}")  # acked at once, nothing in it
    [confirmation] = await answer_in(bot, "C0001")
    assert confirmation["thread_ts"] == ts
    assert "scheduled movement breaks here: every 30 minutes" in confirmation["text"]
    state = await bot.services.storage.channels.get(key())
    assert (
        state is not None
        and state.spec is not None
        and state.spec.to_text().startswith("every 30m 09:00-12:00")
    )


async def test_a_private_answer_to_a_mention_is_only_for_the_person(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.event(
        surface.app_mention_event(
            user=USER, text="<@UBOT> status", channel="C0001", ts="1700000003.1"
        )
    )

    async def shown() -> list[dict] | None:
        return bot.slack.ephemerals or None

    [ephemeral] = await eventually(shown)
    assert ephemeral["user"] == USER and "No schedule in this channel yet" in ephemeral["text"]
    assert not bot.slack.messages_in("C0001")


async def test_settings_by_mention_offers_the_button(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.event(
        surface.app_mention_event(
            user=USER, text="<@UBOT> settings", channel="C0001", ts="1700000004.1"
        )
    )

    async def shown() -> list[dict] | None:
        return bot.slack.ephemerals or None

    [ephemeral] = await eventually(shown)
    assert "Press the button to edit this channel's schedule" in ephemeral["text"]
    [actions] = [b for b in ephemeral["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["value"] == "settings"
    assert not bot.slack.calls_to("views.open")  # no trigger in a message


async def test_the_bots_own_mentions_are_ignored(bot: BotDriver) -> None:
    bot.slack.channels["C0001"].is_member = True
    await bot.event(surface.app_mention_event(user="UBOT", text="<@UBOT> now", channel="C0001"))
    await bot.event(
        {
            **surface.app_mention_event(user=USER, text="<@UBOT> now", channel="C0001"),
            "bot_id": "B1",
        }
    )
    await open_home(bot)  # the events above were handled by now
    assert not bot.slack.messages_in("C0001")
