"""The `workspaces` aggregate on SQL: `SqlWorkspaceRepository` (install state, the status read).

Every statement here (and in `storage.people`, `storage.cooldowns` and `storage.retention`) is
scoped by (platform, team_id): a workspace's rows are found through its key (channels directly,
nudges and breaks through their channel), never through an id that came from a request, so one
workspace can neither read nor change another's data even when their channel and user ids
collide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update

from bot.ports import ChannelKey, ChannelState
from bot.workspaces import UNINSTALLED_REASON, ExportTable, PurgeReport, Workspace
from storage.channels import state_from_row
from storage.db import Database
from storage.models import ChannelRow, WorkspaceRow
from storage.retention import export_workspace, purge_workspace

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


def _workspace_from_row(row: WorkspaceRow) -> Workspace:
    return Workspace(
        platform=row.platform,
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        installed=row.status == ACTIVE,
        uninstalled_at=row.uninstalled_at,
        admins_only=row.admins_only,
    )


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
        """Delete everything stored for the workspace, in one transaction (see
        `storage.retention.purge_workspace`)."""
        return await purge_workspace(self._db, platform=platform, team_id=team_id)

    async def export(self, *, platform: str, team_id: str) -> list[ExportTable]:
        """The workspace's channels, nudges and breaks as text tables (see
        `storage.retention.export_workspace`)."""
        return await export_workspace(self._db, platform=platform, team_id=team_id)
