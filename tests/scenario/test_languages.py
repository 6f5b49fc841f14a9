"""Each language end to end against the fake Slack over HTTP: `/stretch every 45m`, a scheduled
nudge, a ✅, `stats` and `leaderboard`, answered in the language of the person's Slack locale
(the channel takes the language of whoever scheduled it), with the locale's own dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.exercises import find_exercise
from bot.i18n import use_locale
from tests.scenario.conftest import BotDriver, blocks_text, eventually

SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MONDAY_0945_BERLIN = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    slack_locale: str  # what users.info says
    scheduled: str  # the confirmation in the channel
    first_nudge: str  # "First nudge: Mon 23 Nov 09:45 CET", the locale's date and clock
    nudge: str  # the nudge's heading
    stats: str  # "1 break this week"
    board_heading: str
    board_line: str


LANGUAGES = {
    "en": Expected(
        "en-US",
        "scheduled movement breaks here",
        "First nudge: <!date^EPOCH^{date_short_pretty} {time}|Mon 23 Nov 09:45 CET>",
        "Movement break: ",
        "1 break this week",
        "Movement leaderboard: this week",
        "1. <@U0001> 1 break, 1-day streak",
    ),
    "de": Expected(
        "de-DE",
        "hat hier Bewegungspausen geplant",
        "Erster Nudge: <!date^EPOCH^{date_short_pretty} {time}|Mo., 23. Nov., 09:45 CET>",
        "Bewegungspause: ",
        "1 Pause diese Woche",
        "Bewegungs-Rangliste: diese Woche",
        "1. <@U0001> 1 Pause, Serie: 1 Tag",
    ),
    "es": Expected(
        "es-ES",
        "programó pausas activas aquí",
        "Primer aviso: <!date^EPOCH^{date_short_pretty} {time}|lun, 23 nov, 9:45 CET>",
        "Pausa activa: ",
        "1 pausa esta semana",
        "Clasificación de pausas activas: esta semana",
        "1. <@U0001> 1 pausa, racha de 1 día",
    ),
    "fr": Expected(
        "fr-FR",
        "a planifié des pauses actives ici",
        "Premier rappel : <!date^EPOCH^{date_short_pretty} {time}|lun. 23 nov., 09:45 CET>",
        "Pause active : ",
        "1 pause cette semaine",
        "Classement des pauses actives : cette semaine",
        "1. <@U0001> 1 pause, série de 1 jour",
    ),
    "pt_BR": Expected(
        "pt-BR",
        "agendou pausas ativas aqui",
        "Primeiro lembrete: <!date^EPOCH^{date_short_pretty} {time}|seg., 23 de nov., 09:45 CET>",
        "Pausa ativa: ",
        "1 pausa nesta semana",
        "Ranking de pausas ativas: esta semana",
        "1. <@U0001> 1 pausa, sequência de 1 dia",
    ),
    "ja": Expected(
        "ja-JP",
        "運動休憩を設定しました",
        "最初のリマインダー：<!date^EPOCH^{date_short_pretty} {time}|11月23日(月) 9:45 CET>",
        "運動休憩：",
        "今週 休憩 1 回",
        "運動休憩ランキング：今週",
        "1. <@U0001> 休憩 1 回、1日連続",
    ),
}


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_a_week_in_each_language(bot: BotDriver, language: str) -> None:
    expected = LANGUAGES[language]
    bot.slack.set_user("U0001", tz="Europe/Berlin", locale=expected.slack_locale)
    bot.clock.set(SATURDAY)

    scheduled = await bot.command("every 45m 09:00-17:00")
    assert scheduled is not None and scheduled["response_type"] == "in_channel"
    assert expected.scheduled in scheduled["text"], scheduled["text"]
    first = expected.first_nudge.replace("EPOCH", str(int(MONDAY_0945_BERLIN.timestamp())))
    assert first in scheduled["text"], scheduled["text"]

    bot.clock.set(MONDAY_0945_BERLIN)
    outcomes = await bot.services.nudging.run_due_nudges(MONDAY_0945_BERLIN)
    assert [o.decision for o in outcomes] == ["posted"]
    [nudge] = bot.posts()
    shown = blocks_text(nudge)
    assert expected.nudge in shown
    exercise = find_exercise(
        next(b for b in nudge["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    )
    assert exercise is not None
    with use_locale(language):
        assert exercise.shown_name in shown  # the exercise itself, translated
    if language != "en":
        assert exercise.name not in shown

    await bot.react(user="U0001", ts=nudge["ts"])

    async def logged() -> bool:
        return await bot.breaks() == {"U0001": 1}

    await eventually(logged, what="the break")

    stats = await bot.command("stats")
    assert stats is not None and stats["response_type"] == "ephemeral"
    assert expected.stats in stats["text"], stats["text"]

    await bot.command("leaderboard", wait_reply=False)

    async def board() -> bool:
        return len(bot.posts()) > 1

    await eventually(board, what="the leaderboard")
    posted = bot.posts()[-1]
    assert expected.board_heading in blocks_text(posted)
    assert expected.board_line in posted["text"], posted["text"]


async def test_a_person_reads_their_own_language_in_a_channel_of_another(
    bot: BotDriver,
) -> None:
    bot.slack.set_user("U0001", tz="Europe/Berlin", locale="de-DE")
    bot.slack.set_user("U0002", tz="Asia/Tokyo", locale="ja-JP")
    bot.clock.set(SATURDAY)
    await bot.command("every 45m 09:00-17:00")  # the channel speaks German

    own = await bot.command("stats", user="U0002")  # only to them: Japanese
    assert own is not None and "今週" in own["text"], own["text"]

    paused = await bot.command("pause 2h", user="U0002")  # to the channel: German
    assert paused is not None and "pausiert" in paused["text"], paused["text"]


async def test_translated_command_words(bot: BotDriver) -> None:
    bot.slack.set_user("U0001", tz="Europe/Berlin", locale="es-ES")
    bot.clock.set(SATURDAY)
    await bot.command("cada 45m 09:00-17:00")
    paused = await bot.command("pausa 2h")
    assert paused is not None and "pausó las pausas activas" in paused["text"]
    shown = await bot.command("estado")
    assert shown is not None and "En pausa hasta" in shown["text"], shown["text"]
    assert (await bot.command("jetzt", wait_reply=False)) is None  # German works anywhere
    await eventually(lambda: _has_posts(bot), what="the nudge `jetzt` posted")


async def _has_posts(bot: BotDriver) -> bool:
    return bool(bot.posts())
