"""Workspace-level ports: installs and uninstalls, people's privacy choices, abuse limits.

A workspace is one Slack team (or one Teams tenant:team) the bot serves. Everything the bot
stores belongs to exactly one workspace, keyed by (platform, team_id); these repositories never
reach across that key. `storage/workspaces.py`, `people.py`, `cooldowns.py` and `retention.py`
implement them on SQL, bundled as `storage.sql.SqlTenancy`; services use them through the
`Tenancy` bundle.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.home import HomeRepository
from bot.ports import ChannelKey, ChannelState

# `channels.disabled_reason` of the schedules an uninstall stopped; a reinstall restarts exactly
# these (not the ones a team turned off or whose channel was archived).
UNINSTALLED_REASON = "app_uninstalled"


@dataclass(frozen=True)
class Workspace:
    """One workspace and its settings."""

    platform: str
    team_id: str
    enterprise_id: str | None = None
    installed: bool = True
    uninstalled_at: datetime | None = None  # set while uninstalled: the retention clock
    admins_only: bool = False  # schedule changes limited to workspace admins and owners


@dataclass(frozen=True)
class PurgeReport:
    """What deleting one workspace's data removed (row counts)."""

    platform: str
    team_id: str
    channels: int = 0
    nudges: int = 0
    breaks: int = 0
    people: int = 0
    tokens: int = 0  # installation rows (Slack)


@dataclass(frozen=True)
class ExportTable:
    """One table of a workspace export: a header and its rows, values as text."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)


class WorkspaceRepository(Protocol):
    async def get(self, *, platform: str, team_id: str) -> Workspace | None:
        """The workspace, or None if the bot has never seen it."""
        ...

    async def get_with_channel(
        self, channel: ChannelKey
    ) -> tuple[Workspace, ChannelState | None] | None:
        """The channel's workspace and the channel's state (None if never stored), in one
        read: None if the bot has never seen the workspace."""
        ...

    async def ensure(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> Workspace:
        """The workspace, created (installed) when new. A given `enterprise_id` is recorded;
        the installed/uninstalled status is never changed here."""
        ...

    async def set_admins_only(self, *, platform: str, team_id: str, enabled: bool) -> None: ...

    async def mark_installed(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> bool:
        """Installed (again). Returns True when it was uninstalled until now."""
        ...

    async def mark_uninstalled(self, *, platform: str, team_id: str, at: datetime) -> int:
        """Mark the workspace uninstalled (since `at`, or since it first was) and, in the same
        transaction, turn off every one of its channels' schedules and weekly boards, keeping
        the schedules themselves (reason `UNINSTALLED_REASON`). Returns the channels turned off.
        """
        ...

    async def channels_stopped_by_uninstall(
        self, *, platform: str, team_id: str
    ) -> list[ChannelKey]:
        """The workspace's channels whose schedule an uninstall turned off."""
        ...

    async def in_enterprise(self, *, platform: str, enterprise_id: str) -> list[Workspace]:
        """The known workspaces of an Enterprise Grid organization."""
        ...

    async def due_for_purge(self, *, uninstalled_before: datetime) -> list[Workspace]:
        """Workspaces uninstalled before `uninstalled_before` (their retention is over)."""
        ...

    async def purge(self, *, platform: str, team_id: str) -> PurgeReport:
        """Delete everything stored for the workspace: channels, nudges, breaks, people,
        cooldowns, tokens and the workspace itself."""
        ...

    async def export(self, *, platform: str, team_id: str) -> list[ExportTable]:
        """The workspace's channels, nudges and breaks, for its admins."""
        ...


class PeopleRepository(Protocol):
    async def opted_out(
        self, *, platform: str, team_id: str, person_ids: Collection[str]
    ) -> frozenset[str]:
        """Those of `person_ids` who opted out in this workspace."""
        ...

    async def set_opted_out(
        self, *, platform: str, team_id: str, person_id: str, opted_out: bool
    ) -> bool:
        """Record the person's choice; True when it changed."""
        ...

    async def forget(self, *, platform: str, team_id: str, person_id: str) -> int:
        """Delete the person's breaks (and marks) in this workspace, and their name on channel
        settings; returns the number of breaks deleted. Their opt-out choice stays."""
        ...


class CooldownRepository(Protocol):
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
        """Start the (action, subject) cooldown unless one is running; atomic across replicas.

        Returns None when taken now, else the moment the running cooldown ends.
        """
        ...

    async def release(self, *, platform: str, team_id: str, action: str, subject: str) -> None:
        """End a cooldown early (the action it guarded did not happen)."""
        ...


class Tenancy(Protocol):
    """The workspace-level repositories, as one bundle for the services."""

    workspaces: WorkspaceRepository
    people: PeopleRepository
    cooldowns: CooldownRepository
    home: HomeRepository  # a person's page across the workspace's channels


@runtime_checkable
class KnowsAdmins(Protocol):
    """A chat platform that can tell workspace admins and owners (Slack `users.info`)."""

    async def is_workspace_admin(self, team_id: str, user_id: str) -> bool | None:
        """True for an admin or owner, False for anyone else, None when it cannot tell now."""
        ...
