"""Teams in other languages: answers follow the activity's `locale`, what the channel reads
(schedule changes, nudge cards, the Done card update) the channel's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.teams import payloads
from tests.teams.conftest import TeamsDriver
from tests.teams.fake_connector import ConnectorCall, card_of, card_text
from tests.teams.payloads import ADA, GRACE

MONDAY_0845 = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)  # 09:45 in Berlin: the first slot


async def say_in(teams: TeamsDriver, text: str, locale: str, **kw: Any) -> list[ConnectorCall]:
    before = len(teams.connector.calls)
    activity = payloads.message(text, service_url=teams.service_url, **kw)
    activity["locale"] = locale
    answer = await teams.send(activity)
    assert answer.status in (200, 202), answer
    return teams.connector.calls[before:]


async def test_the_card_renders_in_the_channels_language_and_replies_in_the_senders(
    teams: TeamsDriver,
) -> None:
    await teams.install()
    [answer] = await say_in(teams, "stretch every 45m 09:00-17:00 weekdays", "de-DE")
    assert "hat hier Bewegungspausen geplant" in answer.body["text"], answer.body["text"]

    nudge = await teams.nudge(MONDAY_0845)
    card = card_of(nudge.body)
    assert card is not None
    assert nudge.body["summary"].startswith("Bewegungspause: ")
    assert card["actions"][0]["title"] == "Erledigt ✅"
    assert "Drück Erledigt oder reagiere" in card_text(card)

    # Grace reads French: the card she presses is the channel's (German) ...
    pressed = payloads.done_pressed(
        nudge.response["id"],
        service_url=teams.service_url,
        exercise=str(card["actions"][0]["data"]["exercise"]),
        person=GRACE,
    )
    pressed["locale"] = "fr-FR"
    response = await teams.send(pressed)
    assert response.status == 200
    assert "Bisher bewegt (1): Grace Hopper." in card_text(response.body["value"])
    [update] = teams.connector.of_kind("update")
    assert "Bisher bewegt (1): Grace Hopper." in card_text(card_of(update.body) or {})

    # ... and what only she reads is French.
    calls = await say_in(teams, "stats", "fr-FR", person=GRACE)
    private = calls[-1]
    assert "Vos pauses dans ce canal" in private.body["text"], private.body["text"]


async def test_an_english_teams_client_gets_english(teams: TeamsDriver) -> None:
    await teams.install()
    [answer] = await say_in(teams, "stretch every 45m 09:00-17:00 weekdays", "en-GB", person=ADA)
    assert "scheduled movement breaks here" in answer.body["text"]
