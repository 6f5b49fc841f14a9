"""Which language: `/stretch language`, the default from whoever sets the schedule, and the
person's own Slack locale for what only they read (bot.languages)."""

from __future__ import annotations

from tests.scenario.conftest import BotDriver, key


async def channel_language(bot: BotDriver) -> str | None:
    state = await bot.services.storage.channels.get(key())
    return None if state is None else state.language


async def test_language_sets_shows_and_refuses_what_it_does_not_speak(bot: BotDriver) -> None:
    shown = await bot.command("language")
    assert shown is not None and "no language set" in shown["text"]
    assert await channel_language(bot) is None

    answer = await bot.command("language pt-br")
    assert answer is not None and answer["response_type"] == "in_channel"
    assert await channel_language(bot) == "pt_BR"

    shown = await bot.command("language")  # to the person, in their own (English) locale
    assert shown is not None and "Português (Brasil) (`pt-BR`)" in shown["text"]

    refused = await bot.command("language klingon")
    assert refused is not None and "klingon" in refused["text"]
    assert await channel_language(bot) == "pt_BR"  # unchanged

    await bot.command("language English")
    assert await channel_language(bot) == "en"


async def test_the_channel_speaks_the_language_of_who_set_the_schedule(bot: BotDriver) -> None:
    bot.slack.set_user("U0001", locale="de-DE")
    await bot.command("every 45m 09:00-17:00")
    assert await channel_language(bot) == "de"

    bot.slack.set_user("U0002", locale="fr-FR")
    await bot.command("every 30m 09:00-17:00", user="U0002")
    assert await channel_language(bot) == "de"  # set once; `language fr` changes it


async def test_the_language_is_in_the_workspace_export(bot: BotDriver) -> None:
    await bot.command("language ja")
    tables = await bot.services.tenancy.workspaces.export(platform="slack", team_id="T0001")
    [channels] = [table for table in tables if table.name == "channels"]
    row = dict(zip(channels.header, channels.rows[0], strict=True))
    assert row["language"] == "ja"


async def test_help_lists_the_readers_own_command_words(bot: BotDriver) -> None:
    bot.slack.set_user("U0001", locale="de-DE")
    shown = await bot.command("hilfe")
    assert shown is not None
    assert "Auch auf Deutsch: `jetzt`, `alle`," in shown["text"], shown["text"]
    assert "Beweg dich sanft" in shown["text"]  # the health note, translated
    english = await bot.command("help", user="U0002")
    assert english is not None and "In your language too" not in english["text"]
