"""Personal reminders on two replicas sharing one PostgreSQL database: each person's reminder is
posted exactly once per slot, slid exactly once while they are in Do Not Disturb and then posted
exactly once, whichever replica wins (the same claims as channel schedules)."""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime, time, timedelta

import aiohttp
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.schedules import ScheduleSpec
from storage.channels import spec_to_columns
from storage.models import ChannelRow
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import TEAM, BotDriver, FakeClock
from tests.scenario.test_replicas import (  # noqa: F401 (fixtures)
    TOKEN_A,
    TOKEN_B,
    StartReplica,
    db,
    nudge_rows,
    replicas,
    scheduled_posts,
)

pytestmark = pytest.mark.postgres

PEOPLE = 40
EVERY_HOUR = ScheduleSpec(
    interval=timedelta(hours=1),
    tz="UTC",
    window_start=time(8, 0),
    window_end=time(17, 0),
    weekdays=frozenset(range(7)),
)


async def seed_people(engine: AsyncEngine, slack: FakeSlack, due: datetime) -> dict[str, str]:
    """PEOPLE people with personal reminders every hour, due at `due`; person -> DM id."""
    dms = {f"UP{i:04d}": slack.surfaces.open_im(f"UP{i:04d}").id for i in range(PEOPLE)}
    now = datetime.now(UTC)
    rows = [
        {
            "platform": "slack",
            "team_id": TEAM,
            "channel_id": dm,
            **spec_to_columns(EVERY_HOUR),
            "enabled": True,
            "paused": False,
            "seated_only": False,
            "weekly_board": False,
            "next_slot_at": due,
            "personal_for": person,
            "created_at": now,
            "updated_at": now,
        }
        for person, dm in dms.items()
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(ChannelRow), rows)
    return dms


async def test_two_replicas_post_slide_and_skip_each_reminder_exactly_once(
    replicas: StartReplica,  # noqa: F811
    db: AsyncEngine,  # noqa: F811
    slack: FakeSlack,
    clock: FakeClock,
) -> None:
    a = await replicas(TOKEN_A)
    b = await replicas(TOKEN_B)
    for replica in (a, b):  # this test reads many people within one real minute
        replica.services.chats["slack"].presence.budget.per_minute["dnd.info"] = 1000
    # One person sets theirs over HTTP on replica A (the command path on Postgres).
    async with aiohttp.ClientSession() as http:
        answer = await BotDriver(a, slack, clock, http).command("me every 1h 08:00-17:00 tz UTC")
    assert answer is not None and "direct message" in answer["text"]
    slot = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # clock: Monday 08:00 UTC
    dms = await seed_people(db, slack, slot)
    dms["U0001"] = slack.surfaces.ims["U0001"]
    # Every other person is in Do Not Disturb until 09:20.
    busy = sorted(dms)[::2]
    for person in busy:
        slack.presence.set_dnd(
            person,
            (slot - timedelta(hours=1)).timestamp(),
            (slot + timedelta(minutes=20)).timestamp(),
        )

    async def both() -> collections.Counter[str]:
        out_a, out_b = await asyncio.gather(
            a.services.nudging.run_due_nudges(), b.services.nudging.run_due_nudges()
        )
        return collections.Counter(o.decision for o in [*out_a, *out_b])

    clock.set(slot)
    seen = await both()
    assert seen["posted"] == len(dms) - len(busy), seen
    assert seen["slid"] == len(busy), seen
    assert set(seen) <= {"posted", "slid", "lost_race"}, seen
    assert await both() == collections.Counter()  # nothing due twice

    clock.set(slot + timedelta(minutes=23))  # a few minutes after Do Not Disturb ends
    seen = await both()
    assert seen["posted"] == len(busy) and set(seen) <= {"posted", "lost_race"}, seen

    posts = scheduled_posts(slack)
    assert collections.Counter(channel for channel, _, _ in posts) == {dm: 1 for dm in dms.values()}
    rows = await nudge_rows(db)
    assert sorted((channel, at) for channel, at, status, _ in rows if status == "posted") == sorted(
        (dm, slot) for dm in dms.values()
    )
    assert {token for _, _, token in posts} == {TOKEN_A, TOKEN_B}, "one replica did nothing"

    # The last slot of the day, everyone in Do Not Disturb past the window: skipped, once each.
    last = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    for person in dms:
        slack.presence.set_dnd(
            person,
            (last - timedelta(minutes=5)).timestamp(),
            (last + timedelta(hours=2)).timestamp(),
        )
    clock.set(last - timedelta(hours=1))
    await both()  # 15:00: slid past 16:00? No: DND starts at 15:55, so these post
    clock.set(last)
    seen = await both()
    assert seen["skipped_busy"] == len(dms) and set(seen) <= {"skipped_busy", "lost_race"}, seen
    rows = await nudge_rows(db)
    skipped = [channel for channel, at, status, _ in rows if status == "skipped" and at == last]
    assert sorted(skipped) == sorted(dms.values())
