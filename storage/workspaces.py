"""SQL implementations of the workspace-level repositories in `bot.workspaces`.

Every statement here is scoped by (platform, team_id): a workspace's rows are found through its
key (channels directly, nudges and breaks through their channel), never through an id that came
from a request, so one workspace can neither read nor change another's data even when their
channel and user ids collide.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ports import ChannelKey, ChannelState
from bot.workspaces import (
    UNINSTALLED_REASON,
    ExportTable,
    PurgeReport,
    Workspace,
)
from storage.channels import spec_from_row, state_from_row
from storage.db import Database
from storage.models import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    BreakMarkRow,
    BreakRow,
    ChannelRow,
    CooldownRow,
    NudgeRow,
    PersonRow,
    WorkspaceRow,
)

ACTIVE = "active"
UNINSTALLED = "uninstalled"

# `/stretch status` reads its channel and checks its workspace: one prebuilt statement (bound
# parameters, run by `Database.first`) answers both. The channel's columns keep their names,
# so a row reads like a `ChannelRow`; the workspace's are prefixed.
_WORKSPACE_AND_CHANNEL = (
    select(
        WorkspaceRow.status.label("ws_status"),
        WorkspaceRow.enterprise_id.label("ws_enterprise_id"),
        WorkspaceRow.uninstalled_at.label("ws_uninstalled_at"),
        WorkspaceRow.admins_only.label("ws_admins_only"),
        *ChannelRow.__table__.columns,
    )
    .select_from(WorkspaceRow)
    .outerjoin(
        ChannelRow,
        and_(
            ChannelRow.platform == WorkspaceRow.platform,
            ChannelRow.team_id == WorkspaceRow.team_id,
            ChannelRow.channel_id == bindparam("channel_id"),
        ),
    )
    .where(
        WorkspaceRow.platform == bindparam("platform"),
        WorkspaceRow.team_id == bindparam("team_id"),
    )
)


def _is_workspace(platform: str, team_id: str) -> ColumnElement[bool]:
    return (WorkspaceRow.platform == platform) & (WorkspaceRow.team_id == team_id)


def _channels_of(platform: str, team_id: str) -> Select[int]:
    """The primary keys of the workspace's channels (a subquery for nudges and breaks)."""
    return select(ChannelRow.id).where(
        ChannelRow.platform == platform, ChannelRow.team_id == team_id
    )


def _nudges_of(platform: str, team_id: str) -> Select[int]:
    return select(NudgeRow.id).where(NudgeRow.channel_pk.in_(_channels_of(platform, team_id)))


def _workspace_from_row(row: WorkspaceRow) -> Workspace:
    return Workspace(
        platform=row.platform,
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        installed=row.status == ACTIVE,
        uninstalled_at=row.uninstalled_at,
        admins_only=row.admins_only,
    )


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SqlWorkspaceRepository:
    """`bot.workspaces.WorkspaceRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, *, platform: str, team_id: str) -> Workspace | None:
        """The workspace, or None if the bot has never seen it."""
        async with self._db.read() as session:
            row = await session.scalar(select(WorkspaceRow).where(_is_workspace(platform, team_id)))
            return _workspace_from_row(row) if row is not None else None

    async def get_with_channel(
        self, channel: ChannelKey
    ) -> tuple[Workspace, ChannelState | None] | None:
        """The channel's workspace and the channel's state, in one read (None: unknown
        workspace)."""
        params = {
            "platform": channel.platform,
            "team_id": channel.team_id,
            "channel_id": channel.channel_id,
        }
        row = await self._db.first(_WORKSPACE_AND_CHANNEL, params)
        if row is None:
            return None
        workspace = Workspace(
            platform=channel.platform,
            team_id=channel.team_id,
            enterprise_id=row.ws_enterprise_id,
            installed=row.ws_status == ACTIVE,
            uninstalled_at=row.ws_uninstalled_at,
            admins_only=row.ws_admins_only,
        )
        return workspace, state_from_row(row) if row.id is not None else None

    async def ensure(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> Workspace:
        """The workspace, created (installed) when new; a given `enterprise_id` is recorded.

        Reads first, so the common case (known workspace, nothing new) takes no write lock.
        """
        known = await self.get(platform=platform, team_id=team_id)
        if known is not None and (enterprise_id is None or known.enterprise_id == enterprise_id):
            return known
        now = self._db.clock()
        async with self._db.write() as session:
            await session.execute(
                self._db.insert(WorkspaceRow)
                .values(
                    platform=platform,
                    team_id=team_id,
                    enterprise_id=enterprise_id,
                    status=ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["platform", "team_id"])
            )
            if enterprise_id is not None:
                await session.execute(
                    update(WorkspaceRow)
                    .where(_is_workspace(platform, team_id))
                    .values(enterprise_id=enterprise_id, updated_at=now)
                )
            row = (
                await session.execute(select(WorkspaceRow).where(_is_workspace(platform, team_id)))
            ).scalar_one()
            await session.commit()
            return _workspace_from_row(row)

    async def set_admins_only(self, *, platform: str, team_id: str, enabled: bool) -> None:
        """Limit (or stop limiting) schedule changes to the workspace's admins and owners."""
        now = self._db.clock()
        statement = (
            self._db.insert(WorkspaceRow)
            .values(
                platform=platform,
                team_id=team_id,
                status=ACTIVE,
                admins_only=enabled,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["platform", "team_id"],
                set_={"admins_only": enabled, "updated_at": now},
            )
        )
        async with self._db.write() as session:
            await session.execute(statement)
            await session.commit()

    async def mark_installed(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> bool:
        """Installed (again); the retention clock stops. True when it was uninstalled."""
        now = self._db.clock()
        async with self._db.write() as session:
            status = await session.scalar(
                select(WorkspaceRow.status).where(_is_workspace(platform, team_id))
            )
            if status is None:
                await session.execute(
                    self._db.insert(WorkspaceRow).values(
                        platform=platform,
                        team_id=team_id,
                        enterprise_id=enterprise_id,
                        status=ACTIVE,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                values: dict[str, Any] = {
                    "status": ACTIVE,
                    "uninstalled_at": None,
                    "updated_at": now,
                }
                if enterprise_id is not None:
                    values["enterprise_id"] = enterprise_id
                await session.execute(
                    update(WorkspaceRow).where(_is_workspace(platform, team_id)).values(values)
                )
            await session.commit()
        return status == UNINSTALLED

    async def mark_uninstalled(self, *, platform: str, team_id: str, at: datetime) -> int:
        """Mark the workspace uninstalled and turn off all its channels' schedules at once.

        The retention clock starts at the first uninstall signal (`tokens_revoked` and
        `app_uninstalled` often both arrive); schedules are kept for a reinstall.
        """
        now = self._db.clock()
        async with self._db.write() as session:
            row = await session.scalar(select(WorkspaceRow).where(_is_workspace(platform, team_id)))
            if row is None:
                await session.execute(
                    self._db.insert(WorkspaceRow).values(
                        platform=platform,
                        team_id=team_id,
                        status=UNINSTALLED,
                        uninstalled_at=at,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif row.status != UNINSTALLED or row.uninstalled_at is None:
                await session.execute(
                    update(WorkspaceRow)
                    .where(_is_workspace(platform, team_id))
                    .values(status=UNINSTALLED, uninstalled_at=at, updated_at=now)
                )
            stopped = (
                await session.execute(
                    update(ChannelRow)
                    .where(
                        ChannelRow.platform == platform,
                        ChannelRow.team_id == team_id,
                        ChannelRow.enabled,
                    )
                    .values(
                        enabled=False,
                        next_slot_at=None,
                        next_board_at=None,
                        disabled_reason=UNINSTALLED_REASON,
                        updated_at=now,
                    )
                    .returning(ChannelRow.id)
                )
            ).all()
            await session.commit()
        return len(stopped)

    async def channels_stopped_by_uninstall(
        self, *, platform: str, team_id: str
    ) -> list[ChannelKey]:
        """The workspace's channels whose schedule an uninstall turned off."""
        query = (
            select(ChannelRow.channel_id)
            .where(
                ChannelRow.platform == platform,
                ChannelRow.team_id == team_id,
                ChannelRow.disabled_reason == UNINSTALLED_REASON,
                ~ChannelRow.enabled,
            )
            .order_by(ChannelRow.id)
        )
        async with self._db.read() as session:
            return [
                ChannelKey(platform, team_id, channel_id)
                for channel_id in await session.scalars(query)
            ]

    async def in_enterprise(self, *, platform: str, enterprise_id: str) -> list[Workspace]:
        """The known workspaces of an Enterprise Grid organization."""
        query = (
            select(WorkspaceRow)
            .where(WorkspaceRow.platform == platform, WorkspaceRow.enterprise_id == enterprise_id)
            .order_by(WorkspaceRow.id)
        )
        async with self._db.read() as session:
            return [_workspace_from_row(row) for row in await session.scalars(query)]

    async def due_for_purge(self, *, uninstalled_before: datetime) -> list[Workspace]:
        """Workspaces uninstalled before `uninstalled_before`, oldest first."""
        query = (
            select(WorkspaceRow)
            .where(
                WorkspaceRow.status == UNINSTALLED,
                WorkspaceRow.uninstalled_at < uninstalled_before,
            )
            .order_by(WorkspaceRow.uninstalled_at, WorkspaceRow.id)
        )
        async with self._db.read() as session:
            return [_workspace_from_row(row) for row in await session.scalars(query)]

    async def purge(self, *, platform: str, team_id: str) -> PurgeReport:
        """Delete everything stored for the workspace, in one transaction.

        Nudges, breaks, marks, board claims and conversation references go with their channel
        (ON DELETE CASCADE); people, cooldowns, Slack tokens and the workspace row are deleted
        by key.
        """
        channels = _channels_of(platform, team_id)
        async with self._db.write() as session:
            counts = {
                "channels": await _count(session, channels),
                "nudges": await _count(session, _nudges_of(platform, team_id)),
                "breaks": await _count(
                    session, select(BreakRow.id).where(BreakRow.channel_pk.in_(channels))
                ),
                "people": await _count(
                    session,
                    select(PersonRow.person_id).where(
                        PersonRow.platform == platform, PersonRow.team_id == team_id
                    ),
                ),
            }
            await session.execute(
                delete(ChannelRow).where(
                    ChannelRow.platform == platform, ChannelRow.team_id == team_id
                )
            )
            await session.execute(
                delete(PersonRow).where(
                    PersonRow.platform == platform, PersonRow.team_id == team_id
                )
            )
            await session.execute(
                delete(CooldownRow).where(
                    CooldownRow.platform == platform, CooldownRow.team_id == team_id
                )
            )
            tokens = 0
            if platform == "slack":
                for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
                    tokens += len(
                        (
                            await session.execute(
                                delete(table)
                                .where(table.c.team_id == team_id)
                                .returning(table.c.id)
                            )
                        ).all()
                    )
            await session.execute(delete(WorkspaceRow).where(_is_workspace(platform, team_id)))
            await session.commit()
        return PurgeReport(platform=platform, team_id=team_id, tokens=tokens, **counts)

    async def export(self, *, platform: str, team_id: str) -> list[ExportTable]:
        """The workspace's channels, nudges and breaks as text tables (times in ISO 8601 UTC)."""
        mine = (ChannelRow.platform == platform) & (ChannelRow.team_id == team_id)
        async with self._db.read() as session:
            channels = ExportTable(
                "channels",
                (
                    "channel_id",
                    "schedule",
                    "enabled",
                    "paused",
                    "paused_until",
                    "seated_only",
                    "weekly_board",
                    "next_slot_at",
                    "disabled_reason",
                    "updated_by",
                    "created_at",
                    "updated_at",
                ),
            )
            for row in await session.scalars(
                select(ChannelRow).where(mine).order_by(ChannelRow.id)
            ):
                spec = spec_from_row(row)
                channels.rows.append(
                    tuple(
                        _text(value)
                        for value in (
                            row.channel_id,
                            spec.to_text() if spec else "",
                            row.enabled,
                            row.paused,
                            row.paused_until,
                            row.seated_only,
                            row.weekly_board,
                            row.next_slot_at,
                            row.disabled_reason,
                            row.updated_by,
                            row.created_at,
                            row.updated_at,
                        )
                    )
                )
            nudges = ExportTable(
                "nudges",
                (
                    "nudge_id",
                    "channel_id",
                    "slot_at",
                    "exercise",
                    "status",
                    "message_id",
                    "claimed_at",
                    "posted_at",
                    "error",
                ),
            )
            nudge_rows = await session.execute(
                select(
                    NudgeRow.id,
                    ChannelRow.channel_id,
                    NudgeRow.slot_at,
                    NudgeRow.exercise_key,
                    NudgeRow.status,
                    NudgeRow.message_id,
                    NudgeRow.claimed_at,
                    NudgeRow.posted_at,
                    NudgeRow.error,
                )
                .join(ChannelRow, NudgeRow.channel_pk == ChannelRow.id)
                .where(mine)
                .order_by(NudgeRow.id)
            )
            nudges.rows.extend(tuple(_text(value) for value in row) for row in nudge_rows)
            breaks = ExportTable(
                "breaks", ("break_id", "nudge_id", "channel_id", "person_id", "logged_at")
            )
            break_rows = await session.execute(
                select(
                    BreakRow.id,
                    BreakRow.nudge_id,
                    ChannelRow.channel_id,
                    BreakRow.person_id,
                    BreakRow.logged_at,
                )
                .join(ChannelRow, BreakRow.channel_pk == ChannelRow.id)
                .where(mine)
                .order_by(BreakRow.id)
            )
            breaks.rows.extend(tuple(_text(value) for value in row) for row in break_rows)
        return [channels, nudges, breaks]


class SqlPeopleRepository:
    """`bot.workspaces.PeopleRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def opted_out(
        self, *, platform: str, team_id: str, person_ids: Collection[str]
    ) -> frozenset[str]:
        """Those of `person_ids` who opted out in this workspace."""
        if not person_ids:
            return frozenset()
        query = select(PersonRow.person_id).where(
            PersonRow.platform == platform,
            PersonRow.team_id == team_id,
            PersonRow.opted_out,
            PersonRow.person_id.in_(list(person_ids)),
        )
        async with self._db.read() as session:
            return frozenset(await session.scalars(query))

    async def set_opted_out(
        self, *, platform: str, team_id: str, person_id: str, opted_out: bool
    ) -> bool:
        """Record the person's choice; True when it changed."""
        now = self._db.clock()
        key = (
            (PersonRow.platform == platform)
            & (PersonRow.team_id == team_id)
            & (PersonRow.person_id == person_id)
        )
        async with self._db.write() as session:
            before = await session.scalar(select(PersonRow.opted_out).where(key))
            if before is None:
                await session.execute(
                    self._db.insert(PersonRow).values(
                        platform=platform,
                        team_id=team_id,
                        person_id=person_id,
                        opted_out=opted_out,
                        updated_at=now,
                    )
                )
            elif before != opted_out:
                await session.execute(
                    update(PersonRow).where(key).values(opted_out=opted_out, updated_at=now)
                )
            await session.commit()
        return bool(before) != opted_out

    async def forget(self, *, platform: str, team_id: str, person_id: str) -> int:
        """Delete the person's breaks and marks in this workspace and their name on channel
        settings; returns the number of breaks deleted. Their opt-out choice stays."""
        channels = _channels_of(platform, team_id)
        theirs = (BreakRow.person_id == person_id) & BreakRow.channel_pk.in_(channels)
        async with self._db.write() as session:
            deleted = await _count(session, select(BreakRow.id).where(theirs))
            await session.execute(
                delete(BreakMarkRow).where(
                    BreakMarkRow.person_id == person_id,
                    BreakMarkRow.nudge_id.in_(_nudges_of(platform, team_id)),
                )
            )
            await session.execute(delete(BreakRow).where(theirs))
            await session.execute(
                update(ChannelRow)
                .where(
                    ChannelRow.platform == platform,
                    ChannelRow.team_id == team_id,
                    ChannelRow.updated_by == person_id,
                )
                .values(updated_by=None)
            )
            await session.execute(
                update(PersonRow)
                .where(
                    PersonRow.platform == platform,
                    PersonRow.team_id == team_id,
                    PersonRow.person_id == person_id,
                )
                .values(display_name=None, updated_at=self._db.clock())
            )
            await session.commit()
        return deleted


class SqlCooldownRepository:
    """`bot.workspaces.CooldownRepository` on SQL: one upsert decides, whatever the replicas."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(
        self,
        *,
        platform: str,
        team_id: str,
        action: str,
        subject: str,
        now: datetime,
        period_seconds: float,
    ) -> datetime | None:
        """Start the cooldown unless one is running; None when taken, else when it ends."""
        ends_at = now + timedelta(seconds=period_seconds)
        key = {"platform": platform, "team_id": team_id, "action": action, "subject": subject}
        statement = (
            self._db.insert(CooldownRow)
            .values(**key, ends_at=ends_at)
            .on_conflict_do_update(
                index_elements=list(key),
                set_={"ends_at": ends_at},
                where=CooldownRow.ends_at <= now,
            )
            .returning(CooldownRow.ends_at)
        )
        async with self._db.write() as session:
            taken = (await session.execute(statement)).scalar_one_or_none()
            if taken is not None:
                await session.commit()
                return None
            running: datetime | None = await session.scalar(
                select(CooldownRow.ends_at).where(
                    *(getattr(CooldownRow, name) == value for name, value in key.items())
                )
            )
        return running or ends_at

    async def release(self, *, platform: str, team_id: str, action: str, subject: str) -> None:
        """End a cooldown early (the action it guarded did not happen)."""
        async with self._db.write() as session:
            await session.execute(
                delete(CooldownRow).where(
                    CooldownRow.platform == platform,
                    CooldownRow.team_id == team_id,
                    CooldownRow.action == action,
                    CooldownRow.subject == subject,
                )
            )
            await session.commit()
