"""The SQL bundles the wiring builds: `SqlStorage` (`bot.ports.Storage`) and `SqlTenancy`.

Both put their repositories on the one `storage.db.Database` of their engine and clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.custom_exercises import ExerciseRepository
from bot.home import HomeRepository
from bot.ports import BoardRepository, BreakRepository, ChannelRepository, NudgeRepository, Storage
from bot.reminders import ReminderRepository
from bot.team_ports import GroupBreakRepository, SlotOutcomeRepository
from bot.workspaces import CooldownRepository, PeopleRepository, Tenancy, WorkspaceRepository
from storage.boards import SqlBoardRepository
from storage.breaks import SqlBreakRepository
from storage.channels import SqlChannelRepository
from storage.cooldowns import SqlCooldownRepository
from storage.db import Clock, Database, utc_now
from storage.exercises import SqlExerciseRepository
from storage.group_breaks import SqlGroupBreakRepository
from storage.home import SqlHomeRepository
from storage.nudges import SqlNudgeRepository
from storage.people import SqlPeopleRepository
from storage.reminders import SqlReminderRepository
from storage.slot_outcomes import SqlSlotOutcomeRepository
from storage.workspaces import SqlWorkspaceRepository


class SqlStorage:
    """All repositories over one engine; satisfies `bot.ports.Storage`.

    Args:
        engine: from `storage.engine.create_engine`, schema migrated
            (`storage.engine.run_migrations`).
        clock: source of "now" for bookkeeping columns (created/updated/claimed at).
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        db = Database.shared(engine, clock)
        # Annotated with the port types: `Storage` declares plain (hence invariant) attributes.
        self.channels: ChannelRepository = SqlChannelRepository(db)
        self.nudges: NudgeRepository = SqlNudgeRepository(db)
        self.breaks: BreakRepository = SqlBreakRepository(db)
        self.boards: BoardRepository = SqlBoardRepository(db)
        self.group_breaks: GroupBreakRepository = SqlGroupBreakRepository(db)
        self.slot_outcomes: SlotOutcomeRepository = SqlSlotOutcomeRepository(db)
        self.reminders: ReminderRepository = SqlReminderRepository(db)
        self.exercises: ExerciseRepository = SqlExerciseRepository(db)


class SqlTenancy:
    """The workspace-level repositories over one engine; satisfies `bot.workspaces.Tenancy`."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        db = Database.shared(engine, clock)
        self.workspaces: WorkspaceRepository = SqlWorkspaceRepository(db)
        self.people: PeopleRepository = SqlPeopleRepository(db)
        self.cooldowns: CooldownRepository = SqlCooldownRepository(db)
        self.home: HomeRepository = SqlHomeRepository(db)


if TYPE_CHECKING:

    def _satisfies_storage_port(storage: SqlStorage) -> Storage:
        # mypy proves here that SqlStorage structurally implements bot.ports.Storage.
        return storage

    def _satisfies_tenancy_port(tenancy: SqlTenancy) -> Tenancy:
        # mypy proves here that SqlTenancy structurally implements bot.workspaces.Tenancy.
        return tenancy
