"""`stretch together` in Teams, over real HTTP against the fake Bot Connector: the same group
break card as an Adaptive Card, "I'm in" and Done as `Action.Execute` verbs, the roll call
updated proactively (coalesced), every joiner credited once; and the Friday chart as a card."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.teams import team_cards
from tests.teams import payloads
from tests.teams.conftest import TeamsDriver, teams_key
from tests.teams.fake_connector import card_of, card_text
from tests.teams.payloads import ADA, GENERAL, GRACE, LINUS

MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def press(teams: TeamsDriver, message_id: str, verb: str, person: payloads.Person) -> Any:
    answer = await teams.send(
        payloads.card_action(
            message_id, service_url=teams.service_url, verb=verb, data={"group": 1}, person=person
        )
    )
    assert answer.status == 200, answer
    return answer.body


async def eventually(probe: Any, what: str) -> None:
    for _attempt in range(300):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_together_in_teams_joins_updates_and_credits_each_joiner_once(
    teams: TeamsDriver,
) -> None:
    teams.services.group_breaks.cards.interval = 0.2
    teams.clock.set(MONDAY_10_BERLIN)
    await teams.install()
    await teams.say("stretch together 3m")
    [posted] = [
        c
        for c in teams.connector.cards(GENERAL)
        if "Group break" in card_text(card_of(c.body) or {})
    ]
    card = card_of(posted.body) or {}
    assert card["version"] == "1.5"
    assert [a["verb"] for a in card["actions"]] == [team_cards.JOIN_VERB, team_cards.FINISH_VERB]
    assert "Group break: 3 minutes together, starting today 09:01 UTC" in card_text(card)
    message_id = posted.response["id"]

    joined = await press(teams, message_id, team_cards.JOIN_VERB, GRACE)
    assert joined["type"] == "application/vnd.microsoft.card.adaptive"
    assert "In (1): Grace Hopper" in card_text(joined["value"])
    await press(teams, message_id, team_cards.JOIN_VERB, LINUS)

    def roll_call_everywhere() -> bool:
        updates = teams.connector.of_kind("update")
        return bool(updates) and "In (2): Grace Hopper, Linus admin T" in card_text(
            card_of(updates[-1].body) or {}
        )

    await eventually(roll_call_everywhere, "the roll call update")
    assert all(u.activity_id == message_id for u in teams.connector.of_kind("update"))
    assert len(teams.connector.of_kind("update")) <= 2

    # Ada called it (she may finish it without joining), but not before the start time.
    early = await press(teams, message_id, team_cards.FINISH_VERB, ADA)
    assert "We start" in early["value"]
    assert await teams.breaks() == {}
    teams.clock.set(MONDAY_10_BERLIN + timedelta(minutes=5))
    done = await press(teams, message_id, team_cards.FINISH_VERB, GRACE)
    assert "Group break done: 2 people moved together" in card_text(done["value"])
    assert "actions" not in done["value"]
    again = await press(teams, message_id, team_cards.FINISH_VERB, LINUS)
    assert "Group break done: 2 people" in card_text(again["value"])  # no second credit
    assert await teams.breaks() == {GRACE.aad: 1, LINUS.aad: 1}

    def final_everywhere() -> bool:
        updates = teams.connector.of_kind("update")
        return "Group break done" in card_text(card_of(updates[-1].body) or {})

    await eventually(final_everywhere, "the final card")


async def test_friday_chart_is_a_teams_chart_card(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m 09:00-17:00 weekdays")
    nudge = await teams.nudge(datetime(2026, 11, 23, 8, 45, tzinfo=UTC))
    answer = await teams.send(
        payloads.done_pressed(
            nudge.response["id"], service_url=teams.service_url, exercise="heel-lifts"
        )
    )
    assert answer.status == 200
    teams.clock.set(datetime(2026, 11, 27, 15, 0, 5, tzinfo=UTC))
    outcomes = await teams.services.boards.run_due_boards(teams.clock())
    assert [(o.decision, o.detail) for o in outcomes] == [("posted", "")]
    cards = [card_of(c.body) or {} for c in teams.connector.cards(GENERAL)]
    board, chart = cards[-2], cards[-1]
    assert "Team goal (50%) met on 1 of 5 scheduled days this week" in card_text(board)
    element = chart["body"][0]
    assert element["type"] == "Chart.VerticalBar"
    assert [(p["x"], p["y"]) for p in element["data"]][:2] == [("Mon 23", 1), ("Tue 24", 0)]
    assert element["data"][0]["color"] == "good"


async def test_goal_and_freezes_work_as_bot_commands_in_teams(teams: TeamsDriver) -> None:
    await teams.install()
    [answer] = await teams.say("stretch goal 70%")
    assert "the team goal is now 70%" in answer.body["text"]
    [answer] = await teams.say("stretch freezes 2")
    assert "2 streak freezes per person per week" in answer.body["text"]
    state = await teams.services.storage.channels.get(teams_key())
    assert state is not None and (state.team_goal, state.streak_freezes) == (70, 2)
    [answer] = await teams.say("stretch goal")
    assert "Team goal: 70%" in answer.body["text"]
