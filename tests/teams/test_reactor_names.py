"""Teams: people who only react are named. A `messageReaction` carries the reactor's ids but no
name, so the bot looks the member up through the Bot Connector (`GET v3/conversations/{id}/
members/{memberId}`) once and stores the name: boards and the nudge card name and mention them.
A lookup that fails never costs the break."""

from __future__ import annotations

from tests.teams import payloads
from tests.teams.conftest import TeamsDriver
from tests.teams.fake_connector import card_of, card_text
from tests.teams.payloads import ADA, GENERAL
from tests.teams.test_scenario import press_done, scheduled

REACTOR = payloads.Person("aad-rosalind-0004", "29:1rosalind", "Rosalind Franklin", "UTC")


async def board_text(teams: TeamsDriver) -> tuple[str, set[str]]:
    calls = await teams.say("leaderboard")
    [board] = [c for c in calls if card_of(c.body)]
    card = card_of(board.body)
    assert card is not None
    return card_text(card), {e["mentioned"]["id"] for e in card["msteams"]["entities"]}


async def react(teams: TeamsDriver, message_id: str, *kinds: str, removed: bool = False) -> None:
    kw = {"removed": kinds} if removed else {"added": kinds}
    answer = await teams.send(
        payloads.reaction(message_id, service_url=teams.service_url, person=REACTOR, **kw)
    )
    assert answer.status in (200, 202), answer


def lookups(teams: TeamsDriver) -> list[str | None]:
    return [c.activity_id for c in teams.connector.calls if c.kind == "get_member"]


async def test_someone_who_only_reacts_is_looked_up_once_and_named(teams: TeamsDriver) -> None:
    teams.connector.add_member(REACTOR.teams_id, REACTOR.name, REACTOR.aad)
    nudge = await scheduled(teams)
    message_id = nudge.response["id"]
    await react(teams, message_id, "like")
    assert await teams.breaks() == {REACTOR.aad: 1}
    [lookup] = [c for c in teams.connector.calls if c.kind == "get_member"]
    assert lookup.conversation_id == GENERAL and lookup.activity_id == REACTOR.teams_id

    await react(teams, message_id, "heart")
    await react(teams, message_id, "like", "heart", removed=True)
    await react(teams, message_id, "checkmark")
    assert lookups(teams) == [REACTOR.teams_id]  # once, however often they react

    text, mentioned = await board_text(teams)
    assert "1. <at>Rosalind Franklin</at> 1 break" in text
    assert "Someone" not in text
    assert REACTOR.aad in mentioned

    # The nudge card names them too once someone presses Done.
    response = await press_done(teams, nudge, ADA)
    assert "Rosalind Franklin" in card_text(response["value"])


async def test_a_name_already_known_needs_no_lookup(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)  # Ada wrote the schedule: her name is stored
    await teams.send(
        payloads.reaction(nudge.response["id"], service_url=teams.service_url, added=("like",))
    )
    assert await teams.breaks() == {ADA.aad: 1}
    assert lookups(teams) == []


async def test_a_failed_lookup_still_logs_the_break_and_is_not_retried_at_once(
    teams: TeamsDriver,
) -> None:
    nudge = await scheduled(teams)
    message_id = nudge.response["id"]
    teams.connector.fail(GENERAL, status=502, times=1)  # the connector in trouble
    await react(teams, message_id, "like")
    assert await teams.breaks() == {REACTOR.aad: 1}
    assert len(lookups(teams)) == 1
    await react(teams, message_id, "heart")
    assert len(lookups(teams)) == 1  # not asked again right away

    # Not named yet: counted, shown as "Someone", nothing breaks.
    text, mentioned = await board_text(teams)
    assert "1. Someone 1 break" in text and REACTOR.aad not in mentioned


async def test_a_lookup_is_tried_again_later(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    message_id = nudge.response["id"]
    await react(teams, message_id, "like")  # not known to the connector yet: 404
    assert len(lookups(teams)) == 1
    teams.connector.add_member(REACTOR.teams_id, REACTOR.name, REACTOR.aad)
    directory = teams.runtime.services.chats["teams"].directory
    directory._monotonic = lambda: 1e12  # ten minutes (and more) later
    await react(teams, message_id, "heart")
    assert len(lookups(teams)) == 2
    text, _mentioned = await board_text(teams)
    assert "<at>Rosalind Franklin</at>" in text
