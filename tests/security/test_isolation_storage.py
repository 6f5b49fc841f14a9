"""Workspace isolation at the repository level, on every backend: two workspaces with the same
channel, person and message ids; every workspace-level operation touches one of them only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.ports import ChannelKey, ChannelState, MarkChange
from bot.schedules import ScheduleSpec
from bot.workspaces import UNINSTALLED_REASON
from storage.installations import EncryptedInstallationStore, TokenCipher
from storage.sql import SqlStorage, SqlTenancy

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
TEAMS = ("T1", "T2")


async def seed(storage: SqlStorage, tenancy: SqlTenancy) -> None:
    """In each team: scheduled C1, a posted nudge 111.1 with breaks by U1 and U2, U1 opted out,
    a running cooldown, a Slack installation."""
    installs = EncryptedInstallationStore(
        client_id="1.2", engine=storage.engine, cipher=TokenCipher()
    )
    for team in TEAMS:
        channel = ChannelKey("slack", team, "C1")
        await tenancy.workspaces.ensure(platform="slack", team_id=team)
        await storage.channels.save(
            ChannelState(channel, spec=SPEC, enabled=True, next_slot_at=T0, updated_by="U1")
        )
        nudge = await storage.nudges.create_adhoc(channel=channel, exercise_key="heel-lifts")
        await storage.nudges.mark_posted(nudge.id, message_id="111.1", posted_at=T0)
        await storage.breaks.apply_marks(
            [
                MarkChange(channel, "111.1", person, "button", added=True, at=T0)
                for person in ("U1", "U2")
            ]
        )
        await tenancy.people.set_opted_out(
            platform="slack", team_id=team, person_id="U1", opted_out=True
        )
        await tenancy.cooldowns.take(
            platform="slack", team_id=team, action="now", subject="C1", now=T0, period_seconds=300
        )
        await installs.async_save(
            Installation(
                app_id="A1",
                team_id=team,
                bot_token=f"xoxb-{team}",
                bot_id="B1",
                bot_user_id="UB",
                user_id="U1",
                installed_at=T0.timestamp(),
            )
        )


async def counts(storage: SqlStorage, team: str) -> dict[str, int]:
    queries = {
        "channels": "SELECT count(*) FROM channels WHERE team_id = :t",
        "nudges": "SELECT count(*) FROM nudges n JOIN channels c ON n.channel_pk = c.id"
        " WHERE c.team_id = :t",
        "breaks": "SELECT count(*) FROM breaks b JOIN channels c ON b.channel_pk = c.id"
        " WHERE c.team_id = :t",
        "marks": "SELECT count(*) FROM break_marks m JOIN nudges n ON m.nudge_id = n.id"
        " JOIN channels c ON n.channel_pk = c.id WHERE c.team_id = :t",
        "people": "SELECT count(*) FROM people WHERE team_id = :t",
        "cooldowns": "SELECT count(*) FROM cooldowns WHERE team_id = :t",
        "workspaces": "SELECT count(*) FROM workspaces WHERE team_id = :t",
        "bots": "SELECT count(*) FROM slack_bots WHERE team_id = :t",
        "installations": "SELECT count(*) FROM slack_installations WHERE team_id = :t",
    }
    async with storage.engine.connect() as conn:
        return {
            name: int((await conn.execute(text(sql), {"t": team})).scalar_one())
            for name, sql in queries.items()
        }


FULL = {
    "channels": 1,
    "nudges": 1,
    "breaks": 2,
    "marks": 2,
    "people": 1,
    "cooldowns": 1,
    "workspaces": 1,
    "bots": 1,
    "installations": 1,
}


async def test_people_choices_and_forgetting_stay_in_their_workspace(storage: SqlStorage) -> None:
    tenancy = SqlTenancy(storage.engine)
    await seed(storage, tenancy)
    people = tenancy.people
    await people.set_opted_out(platform="slack", team_id="T2", person_id="U1", opted_out=False)
    assert await people.opted_out(platform="slack", team_id="T1", person_ids=["U1", "U2"]) == {"U1"}
    assert await people.opted_out(platform="slack", team_id="T2", person_ids=["U1"]) == set()
    assert await people.opted_out(platform="teams", team_id="T1", person_ids=["U1"]) == set()

    assert await people.forget(platform="slack", team_id="T1", person_id="U1") == 1
    assert {**(await counts(storage, "T1")), "breaks": 2, "marks": 2} == FULL
    after = await counts(storage, "T1")
    assert (after["breaks"], after["marks"]) == (1, 1)
    assert await counts(storage, "T2") == FULL
    assert await people.forget(platform="slack", team_id="T1", person_id="U1") == 0
    c1 = ChannelKey("slack", "T2", "C1")
    assert (await storage.channels.get(c1)).updated_by == "U1"  # T2's setting untouched
    assert (await storage.channels.get(ChannelKey("slack", "T1", "C1"))).updated_by is None


async def test_uninstall_restore_export_and_purge_stay_in_their_workspace(
    storage: SqlStorage,
) -> None:
    tenancy = SqlTenancy(storage.engine)
    await seed(storage, tenancy)
    workspaces = tenancy.workspaces

    assert await workspaces.mark_uninstalled(platform="slack", team_id="T1", at=T0) == 1
    assert (
        await workspaces.mark_uninstalled(platform="slack", team_id="T1", at=T0 + SPEC.interval)
        == 0
    )
    t1 = await workspaces.get(platform="slack", team_id="T1")
    assert t1 is not None and not t1.installed and t1.uninstalled_at == T0  # the first signal
    assert (await workspaces.get(platform="slack", team_id="T2")).installed  # type: ignore[union-attr]
    assert (await storage.channels.get(ChannelKey("slack", "T2", "C1"))).enabled  # type: ignore[union-attr]
    stopped = await storage.channels.get(ChannelKey("slack", "T1", "C1"))
    assert stopped is not None and not stopped.enabled and stopped.spec == SPEC
    assert await workspaces.channels_stopped_by_uninstall(platform="slack", team_id="T1") == [
        ChannelKey("slack", "T1", "C1")
    ]
    assert await workspaces.channels_stopped_by_uninstall(platform="slack", team_id="T2") == []
    async with storage.engine.connect() as conn:
        reason = (
            await conn.execute(text("SELECT disabled_reason FROM channels WHERE team_id='T1'"))
        ).scalar_one()
    assert reason == UNINSTALLED_REASON

    exported = {t.name: t for t in await workspaces.export(platform="slack", team_id="T1")}
    assert [row[0] for row in exported["channels"].rows] == ["C1"]
    assert len(exported["nudges"].rows) == 1 and len(exported["breaks"].rows) == 2
    assert await workspaces.export(platform="slack", team_id="T3") == [
        type(t)(t.name, t.header) for t in exported.values()
    ]

    assert [w.team_id for w in await workspaces.due_for_purge(uninstalled_before=T0)] == []
    due = await workspaces.due_for_purge(uninstalled_before=T0 + timedelta(seconds=1))
    assert [w.team_id for w in due] == ["T1"]
    report = await workspaces.purge(platform="slack", team_id="T1")
    assert (report.channels, report.nudges, report.breaks, report.people, report.tokens) == (
        1,
        1,
        2,
        1,
        2,
    )
    assert set((await counts(storage, "T1")).values()) == {0}
    assert await counts(storage, "T2") == FULL


async def test_reinstall_marks_active_and_enterprise_lookup(storage: SqlStorage) -> None:
    tenancy = SqlTenancy(storage.engine)
    workspaces = tenancy.workspaces
    await workspaces.ensure(platform="slack", team_id="T1", enterprise_id="E1")
    await workspaces.ensure(platform="slack", team_id="T2")
    await workspaces.ensure(platform="slack", team_id="T3", enterprise_id="E1")
    assert [
        w.team_id for w in await workspaces.in_enterprise(platform="slack", enterprise_id="E1")
    ] == [
        "T1",
        "T3",
    ]
    await workspaces.mark_uninstalled(platform="slack", team_id="T1", at=T0)
    assert await workspaces.mark_installed(platform="slack", team_id="T1") is True
    assert await workspaces.mark_installed(platform="slack", team_id="T1") is False
    t1 = await workspaces.get(platform="slack", team_id="T1")
    assert t1 is not None and t1.installed and t1.uninstalled_at is None
    assert t1.enterprise_id == "E1"  # kept when the install names none
    await workspaces.set_admins_only(platform="slack", team_id="T1", enabled=True)
    assert (await workspaces.get(platform="slack", team_id="T1")).admins_only  # type: ignore[union-attr]
    assert not (await workspaces.get(platform="slack", team_id="T2")).admins_only  # type: ignore[union-attr]
