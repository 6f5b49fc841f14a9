"""Workspaces and channels coming and going: installs and reinstalls, uninstalls and their
retention, purges and exports, archived channels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot import rules
from bot.decisions import log_decision
from bot.ports import ChannelKey, Storage
from bot.workspaces import ExportTable, PurgeReport, Tenancy, Workspace

logger = logging.getLogger("stretchbot.services.installs")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PurgeRefused:
    """Why `purge_now` deleted nothing: the workspace is still installed, or unknown."""

    reason: str
    installed: bool


class InstallService:
    """The lifecycle of workspaces (installed, uninstalled, purged) and of channels (gone)."""

    def __init__(
        self,
        storage: Storage,
        tenancy: Tenancy,
        *,
        clock: Clock,
        retention: timedelta = timedelta(days=30),
    ) -> None:
        self.storage = storage
        self.tenancy = tenancy
        self.clock = clock
        self.retention = retention

    async def seen(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> Workspace:
        """The workspace a request came from, recorded on first sight. A request can only come
        from an installed app, so one from a workspace marked uninstalled means it is back."""
        workspace = await self.tenancy.workspaces.ensure(
            platform=platform, team_id=team_id, enterprise_id=enterprise_id
        )
        if not workspace.installed:
            await self.workspace_installed(
                platform=workspace.platform,
                team_id=workspace.team_id,
                enterprise_id=workspace.enterprise_id,
            )
            workspace = replace(workspace, installed=True, uninstalled_at=None)
        return workspace

    async def workspace_installed(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> int:
        """The app was installed (again) in a workspace: it is active, and schedules an
        uninstall stopped run again. Returns how many channels were restarted."""
        workspaces = self.tenancy.workspaces
        was_uninstalled = await workspaces.mark_installed(
            platform=platform, team_id=team_id, enterprise_id=enterprise_id
        )
        now = self.clock()
        restarted = 0
        for key in await workspaces.channels_stopped_by_uninstall(
            platform=platform, team_id=team_id
        ):
            state = await self.storage.channels.get(key)
            if state is None or state.spec is None:
                continue
            # Only the cursor and board restart: a pause set before the uninstall still holds.
            running = rules.running(state, now)
            await self.storage.channels.save(
                replace(
                    state,
                    enabled=True,
                    next_slot_at=running.next_slot_at,
                    next_board_at=running.next_board_at,
                )
            )
            restarted += 1
        logger.info(
            "workspace.installed platform=%s team=%s reinstall=%s channels_restarted=%d",
            platform,
            team_id,
            was_uninstalled,
            restarted,
        )
        return restarted

    async def enterprise_installed(self, *, platform: str, enterprise_id: str) -> int:
        """An organization-wide install: every known workspace of the organization is active."""
        restarted = 0
        for workspace in await self.tenancy.workspaces.in_enterprise(
            platform=platform, enterprise_id=enterprise_id
        ):
            restarted += await self.workspace_installed(
                platform=platform, team_id=workspace.team_id, enterprise_id=enterprise_id
            )
        return restarted

    async def workspace_uninstalled(
        self, *, platform: str, team_id: str | None, enterprise_id: str | None = None
    ) -> int:
        """The app was uninstalled (or its bot token revoked): the workspace's schedules stop
        at once and its data is kept for the retention period. With no `team_id`, an
        organization-wide uninstall: every known workspace of `enterprise_id`. Returns how
        many channels were stopped."""
        workspaces = self.tenancy.workspaces
        if team_id:
            teams = [team_id]
        elif enterprise_id:
            teams = [
                w.team_id
                for w in await workspaces.in_enterprise(
                    platform=platform, enterprise_id=enterprise_id
                )
            ]
        else:
            return 0
        now = self.clock()
        stopped = 0
        for team in teams:
            stopped += await workspaces.mark_uninstalled(platform=platform, team_id=team, at=now)
            logger.info(
                "workspace.uninstalled platform=%s team=%s purge_after=%s",
                platform,
                team,
                (now + self.retention).date().isoformat(),
            )
        return stopped

    async def purge_expired(self, now: datetime | None = None) -> list[PurgeReport]:
        """Delete the data of workspaces uninstalled longer ago than the retention period."""
        now = now or self.clock()
        reports = []
        for workspace in await self.tenancy.workspaces.due_for_purge(
            uninstalled_before=now - self.retention
        ):
            reports.append(
                await self.tenancy.workspaces.purge(
                    platform=workspace.platform, team_id=workspace.team_id
                )
            )
            logger.info("workspace.purged %s", reports[-1])
        return reports

    async def purge_now(self, *, platform: str, team_id: str) -> PurgeReport | PurgeRefused:
        """Delete an uninstalled workspace's data now, whatever its age (an operator's
        `stretchbot purge --team`); refused for a workspace still installed or never seen."""
        workspace = await self.tenancy.workspaces.get(platform=platform, team_id=team_id)
        if workspace is not None and workspace.installed:
            return PurgeRefused(
                f"{team_id} is still installed: uninstall the app there first "
                "(a purge deletes the data the bot is working with)",
                installed=True,
            )
        report = await self.tenancy.workspaces.purge(platform=platform, team_id=team_id)
        deleted = (
            report.channels or report.nudges or report.breaks or report.people or report.tokens
        )
        if workspace is None and not deleted:  # a mistyped id, not a purge
            return PurgeRefused(f"nothing is stored for {platform} team {team_id}", installed=False)
        return report

    async def export(self, *, platform: str, team_id: str) -> list[ExportTable]:
        """The workspace's channels, nudges and breaks, for its admins."""
        return await self.tenancy.workspaces.export(platform=platform, team_id=team_id)

    async def channel_gone(self, channel: ChannelKey, *, reason: str) -> None:
        """The channel was archived or deleted: stop its schedule, keep its history."""
        if await self.storage.channels.get(channel) is not None:
            await self.storage.channels.disable(channel, reason=reason)
            log_decision("schedule.disabled", channel, reason=reason)
