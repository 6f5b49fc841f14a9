"""Storage for Teams on every backend (SQLite, and PostgreSQL with TEST_POSTGRES_URL).

- The conversation reference and display name repository (`storage.conversations`).
- Teams channel keys through the existing repositories: the same contract as Slack channels
  (one claim per slot, idempotent marks, messages found by their Teams activity id).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import ChannelKey, ChannelState, MarkChange, MarkOutcome, SlotMove
from bot.schedules import ScheduleSpec
from storage.conversations import SqlConversationRepository
from storage.models import PersonRow
from storage.sql import SqlStorage

TENANT = "11111111-2222-3333-4444-555555555555"
TEAM = f"{TENANT}:19:team-general-0001@thread.tacv2"
GENERAL = ChannelKey("teams", TEAM, "19:team-general-0001@thread.tacv2")
DESIGN = ChannelKey("teams", TEAM, "19:design-0002@thread.tacv2")
OTHER_TEAM = ChannelKey("teams", f"{TENANT}:19:other@thread.tacv2", "19:other@thread.tacv2")
# The same conversation id in Slack terms must never collide with the Teams one.
SLACK_TWIN = ChannelKey("slack", TEAM, GENERAL.channel_id)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
EVERY_15M = ScheduleSpec(
    interval=timedelta(minutes=15),
    tz="Europe/Berlin",
    window_start=time(0, 0),
    window_end=time(23, 59),
    weekdays=frozenset(range(7)),
)


@pytest.fixture
def refs(db_engine: AsyncEngine) -> SqlConversationRepository:
    return SqlConversationRepository(db_engine)


# ---- conversation references ---------------------------------------------------------------


async def test_remember_reports_arrivals_only(refs: SqlConversationRepository) -> None:
    assert await refs.remember(channel=GENERAL, service_url="https://a/", reference='{"v":1}')
    assert not await refs.remember(channel=GENERAL, service_url="https://b/", reference='{"v":2}')
    stored = await refs.find(GENERAL)
    assert stored is not None
    assert (stored.service_url, stored.reference, stored.active) == ("https://b/", '{"v":2}', True)
    assert await refs.find(DESIGN) is None


async def test_a_deactivated_reference_arrives_again(refs: SqlConversationRepository) -> None:
    await refs.remember(channel=GENERAL, service_url="u", reference="r")
    assert await refs.deactivate(GENERAL)
    assert not await refs.deactivate(GENERAL)
    stored = await refs.find(GENERAL)
    assert stored is not None and not stored.active
    assert await refs.remember(channel=GENERAL, service_url="u", reference="r2")
    stored = await refs.find(GENERAL)
    assert stored is not None and stored.active and stored.reference == "r2"


async def test_concurrent_installs_greet_once(refs: SqlConversationRepository) -> None:
    results = await asyncio.gather(
        *(refs.remember(channel=GENERAL, service_url="u", reference=f"r{i}") for i in range(6))
    )
    assert sorted(results) == [False] * 5 + [True]


async def test_removing_the_app_covers_the_whole_team(
    refs: SqlConversationRepository, storage: SqlStorage
) -> None:
    await storage.channels.save(ChannelState(key=DESIGN, spec=EVERY_15M, enabled=True))
    for key in (GENERAL, OTHER_TEAM):
        await refs.remember(channel=key, service_url="u", reference="r")
    channels = await refs.deactivate_team(platform="teams", team_id=TEAM)
    assert set(channels) == {GENERAL, DESIGN}
    general = await refs.find(GENERAL)
    other = await refs.find(OTHER_TEAM)
    assert general is not None and not general.active
    assert other is not None and other.active


async def test_a_returning_app_reactivates_the_whole_team(
    refs: SqlConversationRepository,
) -> None:
    for key in (GENERAL, DESIGN, OTHER_TEAM):
        await refs.remember(channel=key, service_url="u", reference="r")
    await refs.deactivate_team(platform="teams", team_id=TEAM)
    await refs.deactivate(OTHER_TEAM)
    assert await refs.reactivate_team(platform="teams", team_id=TEAM) == 2
    assert await refs.reactivate_team(platform="teams", team_id=TEAM) == 0
    design, other = await refs.find(DESIGN), await refs.find(OTHER_TEAM)
    assert design is not None and design.active
    assert other is not None and not other.active


async def test_platforms_do_not_share_references(refs: SqlConversationRepository) -> None:
    await refs.remember(channel=GENERAL, service_url="u", reference="teams")
    assert await refs.find(SLACK_TWIN) is None


# ---- people --------------------------------------------------------------------------------


async def test_display_names_keep_other_choices_and_skip_opted_out_people(
    refs: SqlConversationRepository, db_engine: AsyncEngine
) -> None:
    async with db_engine.begin() as conn:
        await conn.execute(
            insert(PersonRow).values(
                platform="teams", team_id=TEAM, person_id="aad-1", opted_out=True, updated_at=NOW
            )
        )
    await refs.set_display_name(platform="teams", team_id=TEAM, person_id="aad-1", name=" Ada ")
    await refs.set_display_name(platform="teams", team_id=TEAM, person_id="aad-2", name="Grace")
    await refs.set_display_name(platform="teams", team_id=TEAM, person_id="aad-3", name="   ")
    await refs.set_display_name(platform="teams", team_id="elsewhere", person_id="aad-4", name="X")
    names = await refs.display_names(
        platform="teams", team_id=TEAM, person_ids=["aad-1", "aad-2", "aad-3", "aad-4", "aad-1"]
    )
    assert names == {"aad-2": "Grace"}  # aad-1 opted out: no name stored
    async with db_engine.connect() as conn:
        opted_out = await conn.scalar(
            select(PersonRow.opted_out).where(PersonRow.person_id == "aad-1")
        )
    assert opted_out is True
    await refs.set_display_name(platform="teams", team_id=TEAM, person_id="aad-2", name="G. Hopper")
    names = await refs.display_names(platform="teams", team_id=TEAM, person_ids=["aad-2"])
    assert names == {"aad-2": "G. Hopper"}


async def test_many_names_at_once(refs: SqlConversationRepository) -> None:
    people = [f"aad-{i}" for i in range(1200)]
    for person in people[::100]:
        await refs.set_display_name(platform="teams", team_id=TEAM, person_id=person, name=person)
    names = await refs.display_names(platform="teams", team_id=TEAM, person_ids=people)
    assert names == {p: p for p in people[::100]}


async def test_people_on_a_nudge_first_mover_first(
    refs: SqlConversationRepository, storage: SqlStorage
) -> None:
    nudge = await storage.nudges.create_adhoc(channel=GENERAL, exercise_key="heel-lifts")
    await storage.nudges.mark_posted(nudge.id, message_id="1763884800002", posted_at=NOW)
    for offset, person in enumerate(["grace", "ada", "linus"]):
        at = NOW + timedelta(seconds=offset)
        await storage.breaks.apply_marks(
            [MarkChange(GENERAL, "1763884800002", person, "button", added=True, at=at)]
        )
    later = NOW + timedelta(minutes=1)
    await storage.breaks.apply_marks(
        [MarkChange(GENERAL, "1763884800002", "ada", "reaction:like", added=True, at=later)]
    )
    await storage.breaks.apply_marks(
        [MarkChange(GENERAL, "1763884800002", "linus", "button", added=False, at=later)]
    )
    people = await refs.people_on_nudge(channel=GENERAL, message_id="1763884800002")
    assert people == ["grace", "ada"]
    assert await refs.people_on_nudge(channel=DESIGN, message_id="1763884800002") == []


# ---- Teams channels through the existing repositories --------------------------------------


async def test_a_teams_slot_is_claimed_once(storage: SqlStorage) -> None:
    slot = NOW + timedelta(minutes=15)
    await storage.channels.save(
        ChannelState(key=GENERAL, spec=EVERY_15M, enabled=True, next_slot_at=slot)
    )
    await storage.channels.save(
        ChannelState(key=SLACK_TWIN, spec=EVERY_15M, enabled=True, next_slot_at=slot)
    )
    due = await storage.channels.due_for_nudge(now=slot, limit=10)
    assert {state.key for state in due} == {GENERAL, SLACK_TWIN}

    move = SlotMove(
        channel=GENERAL,
        expected_slot_at=slot,
        next_slot_at=slot + timedelta(minutes=15),
        slot_at=slot,
        exercise_key="heel-lifts",
    )
    claims = await asyncio.gather(*(storage.nudges.move_slots([move]) for _ in range(4)))
    assert sum(won.get(GENERAL) is not None for won in claims) == 1
    state = await storage.channels.get(GENERAL)
    assert state is not None and state.key == GENERAL
    assert state.next_slot_at == slot + timedelta(minutes=15)
    twin = await storage.channels.get(SLACK_TWIN)
    assert twin is not None and twin.next_slot_at == slot  # the Slack twin is untouched


async def test_teams_marks_are_idempotent_and_found_by_activity_id(storage: SqlStorage) -> None:
    nudge = await storage.nudges.create_adhoc(channel=GENERAL, exercise_key="heel-lifts")
    await storage.nudges.mark_posted(nudge.id, message_id="1763884800002", posted_at=NOW)
    found = await storage.nudges.find_by_message(channel=GENERAL, message_id="1763884800002")
    assert found is not None and found.id == nudge.id and found.channel == GENERAL
    assert (
        await storage.nudges.find_by_message(channel=SLACK_TWIN, message_id="1763884800002") is None
    )

    async def mark(name: str, *, added: bool) -> MarkOutcome:
        change = MarkChange(GENERAL, "1763884800002", "aad-1", name, added=added, at=NOW)
        [outcome] = await storage.breaks.apply_marks([change])
        return outcome

    marks = await asyncio.gather(
        *(
            mark(name, added=True)
            for name in ("button", "button", "reaction:like", "reaction:heart")
        )
    )
    assert sum(outcome.change.changed for outcome in marks) == 1
    assert {outcome.nudge_id for outcome in marks} == {nudge.id}
    assert await storage.breaks.counts(channel=GENERAL, since=None) == {"aad-1": 1}
    for name in ("button", "reaction:like"):
        assert not (await mark(name, added=False)).change.changed
    last = await mark("reaction:heart", added=False)
    assert last.change.changed and last.change.breaks_on_nudge == 0
