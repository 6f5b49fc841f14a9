"""The use cases, bundled for the platform adapters and the scheduler: commands, nudging,
breaks, boards and installs, over the repositories (bot/ports.py, bot/workspaces.py) and the
chat platforms (`Chat`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.boards import BoardService
from bot.breaks import BreakService
from bot.commands import REGISTRY
from bot.commands.runner import CommandService
from bot.decisions import log_decision
from bot.exercise_service import ExerciseService
from bot.group_breaks import GroupBreakService
from bot.home import HomeService
from bot.installs import InstallService
from bot.metrics import Metrics
from bot.nudge_menu import NudgeMenuService
from bot.nudging import NudgeService
from bot.onboarding import OnboardingService
from bot.ports import Chat, Storage
from bot.reminders import SlideRules
from bot.settings import SettingsService
from bot.team import TeamService
from bot.who_moved import WhoMovedService
from bot.workspaces import Tenancy

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Every use case of the bot, sharing one clock, one set of chats and one metrics registry.

    Build it with `Services.create`; platform adapters call the use-case services
    (`services.commands.run(...)`, `services.breaks.log_break(...)`, ...), never storage.
    """

    storage: Storage
    tenancy: Tenancy
    chats: dict[str, Chat]
    clock: Clock
    metrics: Metrics
    default_tz: str
    now_cooldown: timedelta
    installs: InstallService
    breaks: BreakService
    boards: BoardService
    nudging: NudgeService
    team: TeamService
    group_breaks: GroupBreakService
    home: HomeService
    who_moved: WhoMovedService
    nudge_menu: NudgeMenuService
    exercises: ExerciseService
    commands: CommandService = field(init=False)
    settings: SettingsService = field(init=False)
    onboarding: OnboardingService = field(init=False)
    log = staticmethod(log_decision)

    @classmethod
    def create(
        cls,
        storage: Storage,
        tenancy: Tenancy,
        chats: Mapping[str, Chat],
        *,
        clock: Clock | None = None,
        grace: timedelta = timedelta(minutes=10),
        default_tz: str = "UTC",
        post_concurrency: int = 8,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        now_cooldown: timedelta = timedelta(minutes=5),
        commands_per_minute: int = 10,
        retention: timedelta = timedelta(days=30),
        card_update_seconds: float = 3.0,
        slide_rules: SlideRules | None = None,
        roll_update_seconds: float = 3.0,
    ) -> Services:
        """The services on these repositories and chat platforms (keyed by platform name)."""
        clock = clock or system_clock
        metrics = metrics or Metrics()
        chats = dict(chats)
        installs = InstallService(storage, tenancy, clock=clock, retention=retention)
        team = TeamService(storage, tenancy, clock=clock, default_tz=default_tz)
        breaks = BreakService(storage, tenancy, clock=clock, metrics=metrics)
        exercises = ExerciseService(storage)
        services = cls(
            storage=storage,
            tenancy=tenancy,
            chats=chats,
            clock=clock,
            metrics=metrics,
            default_tz=default_tz,
            now_cooldown=now_cooldown,
            installs=installs,
            breaks=breaks,
            boards=BoardService(
                storage,
                tenancy,
                chats,
                installs,
                clock=clock,
                default_tz=default_tz,
                metrics=metrics,
                team=team,
            ),
            team=team,
            group_breaks=GroupBreakService(
                storage,
                chats,
                breaks,
                clock=clock,
                rng=rng,
                card_update_seconds=card_update_seconds,
                default_tz=default_tz,
            ),
            nudging=NudgeService(
                storage,
                chats,
                installs,
                clock=clock,
                metrics=metrics,
                grace=grace,
                post_concurrency=post_concurrency,
                rng=rng,
                slide_rules=slide_rules,
                exercises=exercises,
            ),
            home=HomeService(tenancy.home, clock=clock, default_tz=default_tz),
            who_moved=WhoMovedService(
                storage, tenancy, chats, interval=roll_update_seconds, find=exercises.find
            ),
            nudge_menu=NudgeMenuService(storage, rng=rng),
            exercises=exercises,
        )
        breaks.on_change.append(services.who_moved.break_changed)
        services.commands = CommandService(
            services, REGISTRY, commands_per_minute=commands_per_minute
        )
        services.settings = SettingsService(services)
        services.onboarding = OnboardingService(storage, tenancy, clock=clock)
        return services
