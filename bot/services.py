"""Use cases: run a /stretch command, post nudges, log and undo breaks, build leaderboards.

Services talk to storage through the repository protocols and to chat platforms through the
`Chat` port (bot/ports.py); they know nothing of Slack, Teams or SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import leaderboard, schedules
from bot.batching import BatchWriter
from bot.exercises import RECENT_WINDOW, Exercise, find_exercise, pick_exercise
from bot.leaderboard import Period
from bot.metrics import Metrics
from bot.ports import (
    Board,
    BreakChange,
    ChannelKey,
    ChannelState,
    Chat,
    MarkChange,
    MarkOutcome,
    Nudge,
    PostedNudge,
    PostError,
    PostResult,
    SlotMove,
    Storage,
)
from bot.workspaces import KnowsAdmins, PurgeReport, Tenancy, Workspace

logger = logging.getLogger("stretchbot.services")

Clock = Callable[[], datetime]

CHECK_MARKS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})
WEEKLY_BOARD_DAY = 4  # Friday
WEEKLY_BOARD_TIME = time(16, 0)
BOARD_GRACE = timedelta(hours=3)  # a weekly board late by more than this is skipped
STREAK_LOOKBACK = timedelta(days=400)
STATUS_SLOTS = 5
DUE_BATCH = 500
CLAIM_BATCH = 100  # most slots claimed per transaction (and waiting to be posted)
POSTED_BATCH = 64  # posted message ids written per transaction ...
POSTED_LINGER = 0.05  # ... or this many seconds after the first one waiting
POSTED_FLUSH_SECONDS = 30.0  # a pass waits this long at most for its ids to be written

HEALTH_NOTE = (
    "Move gently and within what feels comfortable. If you feel pain, tingling, numbness or "
    "discomfort that lasts, stop and talk to a doctor or physiotherapist."
)

HELP_TEXT = """stretchbot posts short movement breaks so your team gets up (or at least moves) every so often.

`/stretch` or `/stretch now`: post a break with one exercise here now
`/stretch every 45m 09:00-17:00 weekdays`: schedule breaks in this channel (15m to 8h; days: weekdays, daily, mon-thu, mon,wed,fri; add `tz Europe/Berlin` or `holidays US` if you like)
`/stretch status`: this channel's schedule and the next nudges
`/stretch pause [2h | until monday]`, `/stretch resume`, `/stretch off`
`/stretch leaderboard [week | month | all]`: post the board here
`/stretch leaderboard weekly on|off`: the Friday 16:00 board
`/stretch seated on|off`: only exercises you can do sitting down
`/stretch stats`: your own breaks and streak (only you see it)
`/stretch optout` / `/stretch optin`: leave or rejoin: while out, I don't mention you, show you on boards or store your breaks
`/stretch forget-me`: delete your breaks in this workspace
`/stretch admins-only on|off`: only workspace admins and owners may change schedules (admins and owners decide)

React ✅ to a nudge or press its Done button to log your break.

"""


@dataclass(frozen=True)
class CommandContext:
    """Who typed a command where."""

    channel: ChannelKey
    user_id: str
    enterprise_id: str | None = None  # Slack Enterprise Grid organization, when there is one


@dataclass(frozen=True)
class Reply:
    """What to answer the person who typed a command."""

    text: str
    public: bool = False  # visible to the channel (schedule changes) or only to them


@dataclass(frozen=True)
class NudgeOutcome:
    """What happened to one due channel in a scheduler pass (for logs, metrics and tests)."""

    channel: ChannelKey
    # "posted" | "failed" | "skipped_stale" | "skipped_paused" | "lost_race" | "released"
    decision: str
    slot_at: datetime | None
    detail: str = ""


@dataclass(frozen=True)
class _SlotPlan:
    slot: datetime | None  # the slot to post now; None: every missed slot is stale
    next_slot: datetime | None


@dataclass(frozen=True)
class _Claimed:
    """A slot this process claimed and must now post (or give back)."""

    state: ChannelState
    nudge: Nudge
    move: SlotMove
    exercise: Exercise
    slot: datetime


# Commands that change a channel's schedule: the ones `admins-only` restricts.
SCHEDULE_CHANGES = (
    schedules.ScheduleCommand,
    schedules.PauseCommand,
    schedules.ResumeCommand,
    schedules.OffCommand,
    schedules.SeatedCommand,
    schedules.WeeklyBoardCommand,
)
NOT_AVAILABLE = "That isn't available in this setup of stretchbot."


def is_private_read(command: schedules.Command) -> bool:
    """True for commands whose answer goes only to the person who typed them and that change
    nothing in the channel (status, stats, help, `admins-only` without on/off): a platform
    may answer them in its acknowledgement instead of a second message."""
    if isinstance(command, schedules.AdminsOnlyCommand):
        return command.enabled is None
    return isinstance(
        command, (schedules.StatusCommand, schedules.StatsCommand, schedules.HelpCommand)
    )


class CommandRateLimit:
    """At most `limit` commands per person per minute: a sliding window in this process.

    Per replica on purpose: it stops one person flooding the bot, not a coordinated attack
    (Slack's own rate limits and the `/stretch now` cooldown in the database cover the rest).
    """

    WINDOW = timedelta(minutes=1)

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hits: dict[tuple[str, str, str], deque[datetime]] = {}

    def hit(self, who: tuple[str, str, str], now: datetime) -> timedelta | None:
        """Count a command; None when allowed, else how long until the next one is."""
        if len(self._hits) > 10_000:  # forget people who went quiet
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.WINDOW}
        hits = self._hits.setdefault(who, deque())
        while hits and now - hits[0] >= self.WINDOW:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.WINDOW - now
        hits.append(now)
        return None


class StretchService:
    """The bot's use cases, shared by every platform adapter and the scheduler."""

    def __init__(
        self,
        storage: Storage,
        chats: Mapping[str, Chat],
        *,
        clock: Clock | None = None,
        grace: timedelta = timedelta(minutes=10),
        default_tz: str = "UTC",
        post_concurrency: int = 8,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        tenancy: Tenancy | None = None,
        now_cooldown: timedelta = timedelta(minutes=5),
        commands_per_minute: int = 10,
        retention: timedelta = timedelta(days=30),
    ) -> None:
        self.storage = storage
        self.chats = dict(chats)
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.grace = grace
        self.default_tz = default_tz
        self.post_concurrency = post_concurrency
        self.rng = rng or random.Random()
        self.metrics = metrics or Metrics()
        # Workspaces, people's choices and cooldowns; None (benchmarks) turns those features off.
        self.tenancy = tenancy
        self.now_cooldown = now_cooldown
        self.retention = retention
        self.rate_limit = CommandRateLimit(commands_per_minute)
        self._stopping = False
        # ✅ reactions and Done presses, written in batches (bot/batching.py).
        self.marks: BatchWriter[MarkChange, MarkOutcome] = BatchWriter(
            self._apply_marks, what="mark", on_outcome=self._mark_written
        )
        # The message ids of posted nudges (so reactions on them count), written in batches.
        self.posted_ids: BatchWriter[PostedNudge, None] = BatchWriter(
            self._write_posted_ids,
            what="posted nudge id",
            max_batch=POSTED_BATCH,
            linger=POSTED_LINGER,
        )
        self._passes = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def stop_claiming(self) -> None:
        """Shutting down: finish posts under way, claim no more slots (others will)."""
        self._stopping = True

    @contextlib.asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        self._passes += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._passes -= 1
            if self._passes == 0:
                self._idle.set()

    async def drain(self, grace_seconds: float) -> bool:
        """Wait until no scheduled pass is under way (after `stop_claiming`); False on timeout."""
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    # ---- commands -----------------------------------------------------------------------

    async def run_command(self, ctx: CommandContext, text: str) -> Reply | None:
        """Parse and run the text of a /stretch command; errors come back as friendly replies.

        A person gets at most `commands_per_minute` answers a minute. With `admins-only` on in
        the workspace, schedule changes are for its admins and owners.
        """
        command = self.check_command(ctx, text)
        if isinstance(command, Reply):
            return command
        return await self.execute_command(ctx, command)

    def check_command(self, ctx: CommandContext, text: str) -> Reply | schedules.Command:
        """The first half of `run_command`, without I/O: count the command against the
        person's rate limit and parse it. A Reply (the refusal or the parse error) is the
        answer; a command is for `execute_command`."""
        wait = self.rate_limit.hit(
            (ctx.channel.platform, ctx.channel.team_id, ctx.user_id), self.clock()
        )
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            return Reply(
                f"Easy there: that's {self.rate_limit.limit} /stretch commands in a minute. "
                f"Try again in {_plural(seconds, 'second')}."
            )
        command = schedules.parse_command(text)
        if isinstance(command, schedules.ParseError):
            hint = f"\nTry: `{command.usage}`" if command.usage else ""
            return Reply(
                f"{command.message}{hint}\n(`/stretch help` lists everything I understand.)"
            )
        return command

    async def execute_command(
        self, ctx: CommandContext, command: schedules.Command
    ) -> Reply | None:
        """The second half of `run_command`: run a command `check_command` let through."""
        if isinstance(command, schedules.StatusCommand):
            return await self.status(ctx)  # reads the workspace along with the channel
        workspace = await self._workspace(ctx)
        if (
            workspace is not None
            and workspace.admins_only
            and isinstance(command, SCHEDULE_CHANGES)
        ):
            refusal = await self._unless_admin(
                ctx,
                "Only workspace admins and owners can change the schedule here "
                "(`/stretch admins-only` is on). Ask one of them, or see `/stretch status`.",
            )
            if refusal is not None:
                return refusal
        match command:
            case schedules.NowCommand():
                return await self.post_now(ctx)
            case schedules.ScheduleCommand():
                return await self.set_schedule(ctx, command)
            case schedules.StatusCommand():
                return await self.status(ctx)
            case schedules.PauseCommand():
                return await self.pause(ctx, command)
            case schedules.ResumeCommand():
                return await self.resume(ctx)
            case schedules.OffCommand():
                return await self.turn_off(ctx)
            case schedules.LeaderboardCommand(period=period):
                return await self.post_leaderboard(ctx, _period(period))
            case schedules.WeeklyBoardCommand(enabled=enabled):
                return await self.set_weekly_board(ctx, enabled)
            case schedules.SeatedCommand(enabled=enabled):
                return await self.set_seated(ctx, enabled)
            case schedules.StatsCommand():
                return await self.stats(ctx)
            case schedules.HelpCommand():
                return Reply(HELP_TEXT + HEALTH_NOTE)
            case schedules.OptOutCommand():
                return await self.set_opted_out(ctx, True)
            case schedules.OptInCommand():
                return await self.set_opted_out(ctx, False)
            case schedules.ForgetMeCommand():
                return await self.forget_me(ctx)
            case schedules.AdminsOnlyCommand(enabled=enabled):
                return await self.set_admins_only(ctx, workspace, enabled)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    async def post_now(self, ctx: CommandContext) -> Reply | None:
        """Post a nudge into the channel right away (`/stretch now`), at most once per
        `now_cooldown` per channel, across every replica."""
        busy_until = await self._take_now_cooldown(ctx.channel)
        if busy_until is not None:
            minutes = max(1, math.ceil((busy_until - self.clock()).total_seconds() / 60))
            return Reply(
                "I posted a break here just a moment ago: do that one and react ✅! "
                f"`/stretch now` works again here in {_plural(minutes, 'minute')}."
            )
        state = await self._channel(ctx.channel)
        exercise = await self._pick(state)
        nudge = await self.storage.nudges.create_adhoc(
            channel=ctx.channel, exercise_key=exercise.key
        )
        chat = self._chat(ctx.channel)
        result = await chat.post_nudge(ctx.channel, exercise)
        if result.error is PostError.NOT_IN_CHANNEL:
            joined = await chat.ensure_member(ctx.channel)
            result = await chat.post_nudge(ctx.channel, exercise) if joined.ok else joined
        if result.ok and result.message_id:
            await self.storage.nudges.mark_posted(
                nudge.id, message_id=result.message_id, posted_at=self.clock()
            )
            self.metrics.nudges_posted.labels(ctx.channel.platform, "now").inc()
            _log("nudge.posted", ctx.channel, slot="now", exercise=exercise.key, by=ctx.user_id)
            return None
        await self.storage.nudges.mark_failed(nudge.id, reason=result.detail or str(result.error))
        self._count_failure(ctx.channel, result)
        _log("nudge.failed", ctx.channel, slot="now", reason=result.detail or str(result.error))
        if self.tenancy is not None:  # nothing was posted: let them try again once it's fixed
            await self.tenancy.cooldowns.release(
                platform=ctx.channel.platform,
                team_id=ctx.channel.team_id,
                action="now",
                subject=ctx.channel.channel_id,
            )
        return Reply(_post_problem(result))

    async def set_schedule(self, ctx: CommandContext, command: schedules.ScheduleCommand) -> Reply:
        """Schedule the channel's nudges; join the channel if the bot is not in it yet."""
        tz = command.tz
        if tz is None:
            tz = await self._chat(ctx.channel).user_timezone(ctx.channel.team_id, ctx.user_id)
            tz = tz if tz and _valid_tz(tz) else self.default_tz
        spec = command.to_spec(tz)
        membership = await self._chat(ctx.channel).ensure_member(ctx.channel)
        if membership.error is PostError.CHANNEL_GONE:
            return Reply(_post_problem(membership))
        now = self.clock()
        state = await self._channel(ctx.channel)
        state = replace(
            state,
            spec=spec,
            enabled=True,
            paused=False,
            paused_until=None,
            next_slot_at=schedules.next_slot_after(spec, now),
            next_board_at=next_weekly_board_after(spec.tz, now) if state.weekly_board else None,
            updated_by=ctx.user_id,
        )
        await self.storage.channels.save(state)
        _log("schedule.set", ctx.channel, spec=spec.to_text(), by=ctx.user_id)
        lines = [f"{await self._who(ctx)} scheduled movement breaks here: {spec.describe()}."]
        upcoming = schedules.next_slots(spec, now, 1)
        if upcoming:
            lines.append(f"First nudge: {_when(upcoming[0], spec.tz, now)}.")
        if membership.error is PostError.NOT_IN_CHANNEL:
            lines.append(
                "This is a private channel I'm not in yet: invite me with `/invite @stretchbot` "
                "so the nudges can arrive."
            )
        lines.append("React ✅ to a nudge (or press Done) to log your break.")
        return Reply("\n".join(lines), public=True)

    async def status(self, ctx: CommandContext) -> Reply:
        """Describe the channel's schedule and its next nudge times."""
        state = await self._command_channel(ctx)
        now = self.clock()
        if state is None or state.spec is None:
            return Reply(
                "No schedule in this channel yet. Try `/stretch every 45m 09:00-17:00 weekdays`, "
                "or `/stretch now` for a break right away."
            )
        spec = state.spec
        if not state.enabled:
            return Reply(
                f"Scheduled nudges are off here (last schedule: {spec.describe()}). "
                "`/stretch resume` turns them back on."
            )
        lines = [f"Movement breaks here: {spec.describe()}."]
        pause_end = _pause_end(state, now)
        indefinite = _is_paused(state, now) and pause_end is None
        if indefinite:
            lines.append("Paused until someone types `/stretch resume`.")
        elif pause_end is not None:
            lines.append(f"Paused until {_when(pause_end, spec.tz, now)}.")
        after = max(now, pause_end - timedelta(microseconds=1)) if pause_end else now
        upcoming = [] if indefinite else schedules.next_slots(spec, after, STATUS_SLOTS)
        if upcoming:
            lines.append(
                "Next nudges: " + ", ".join(_when(s, spec.tz, now) for s in upcoming) + "."
            )
        extras = []
        if state.seated_only:
            extras.append("seated exercises only")
        extras.append(
            "weekly leaderboard Fridays 16:00" if state.weekly_board else "no weekly leaderboard"
        )
        lines.append(_capitalize("; ".join(extras)) + ".")
        return Reply("\n".join(lines))

    async def pause(self, ctx: CommandContext, command: schedules.PauseCommand) -> Reply:
        state = await self.storage.channels.get(ctx.channel)
        if state is None or state.spec is None or not state.enabled:
            return Reply(
                "There's no schedule running here to pause. `/stretch status` shows the setup."
            )
        now = self.clock()
        until = schedules.resolve_pause_end(command, now=now, tz=state.spec.tz)
        if until is not None and until <= now:
            return Reply(
                "That time has already passed. Try `/stretch pause 2h` or `/stretch pause until monday`."
            )
        await self.storage.channels.save(
            replace(state, paused=True, paused_until=until, updated_by=ctx.user_id)
        )
        _log(
            "schedule.paused",
            ctx.channel,
            until=until.isoformat() if until else "resume",
            by=ctx.user_id,
        )
        if until is None:
            return Reply(
                f"{await self._who(ctx)} paused movement breaks here until `/stretch resume`.",
                public=True,
            )
        return Reply(
            f"{await self._who(ctx)} paused movement breaks here until {_when(until, state.spec.tz, now)}.",
            public=True,
        )

    async def resume(self, ctx: CommandContext) -> Reply:
        state = await self.storage.channels.get(ctx.channel)
        if state is None or state.spec is None:
            return Reply(
                "There's no schedule here to resume. Try `/stretch every 45m 09:00-17:00 weekdays`."
            )
        now = self.clock()
        spec = state.spec
        state = replace(
            state,
            enabled=True,
            paused=False,
            paused_until=None,
            next_slot_at=schedules.next_slot_after(spec, now),
            next_board_at=next_weekly_board_after(spec.tz, now) if state.weekly_board else None,
            updated_by=ctx.user_id,
        )
        await self.storage.channels.save(state)
        _log("schedule.resumed", ctx.channel, by=ctx.user_id)
        text = f"{await self._who(ctx)} resumed movement breaks here: {spec.describe()}."
        if state.next_slot_at:
            text += f" Next nudge: {_when(state.next_slot_at, spec.tz, now)}."
        return Reply(text, public=True)

    async def turn_off(self, ctx: CommandContext) -> Reply:
        state = await self.storage.channels.get(ctx.channel)
        if state is None or not state.enabled:
            return Reply("Scheduled nudges are already off here.")
        await self.storage.channels.save(
            replace(
                state,
                enabled=False,
                paused=False,
                paused_until=None,
                next_slot_at=None,
                next_board_at=None,
                updated_by=ctx.user_id,
            )
        )
        _log("schedule.off", ctx.channel, by=ctx.user_id)
        return Reply(
            f"{await self._who(ctx)} turned scheduled movement breaks off here. Breaks and leaderboards "
            "are kept; `/stretch resume` brings the schedule back.",
            public=True,
        )

    async def set_weekly_board(self, ctx: CommandContext, enabled: bool) -> Reply:
        state = await self._channel(ctx.channel)
        now = self.clock()
        next_board = (
            next_weekly_board_after(state.tz(self.default_tz), now)
            if enabled and state.enabled
            else None
        )
        await self.storage.channels.save(
            replace(state, weekly_board=enabled, next_board_at=next_board, updated_by=ctx.user_id)
        )
        if enabled:
            text = "The weekly leaderboard is on: I'll post it here on Fridays at 16:00"
            text += " (channel time)." if state.enabled else " once this channel has a schedule."
        else:
            text = "The weekly leaderboard is off here. `/stretch leaderboard` still posts one on demand."
        return Reply(await self._addressed(ctx, text), public=True)

    async def set_seated(self, ctx: CommandContext, enabled: bool) -> Reply:
        state = await self._channel(ctx.channel)
        await self.storage.channels.save(
            replace(state, seated_only=enabled, updated_by=ctx.user_id)
        )
        text = (
            "nudges here will only suggest exercises you can do sitting down."
            if enabled
            else "nudges here can suggest standing and floor exercises again."
        )
        return Reply(await self._addressed(ctx, text), public=True)

    async def post_leaderboard(self, ctx: CommandContext, period: Period) -> Reply | None:
        board = await self.build_board(ctx.channel, period)
        if not board.entries:
            return Reply(
                f"No breaks logged here {_period_phrase(period)} yet. React ✅ to a nudge to get on the board."
            )
        chat = self._chat(ctx.channel)
        result = await chat.post_board(ctx.channel, board)
        if result.error is PostError.NOT_IN_CHANNEL:
            joined = await chat.ensure_member(ctx.channel)
            result = await chat.post_board(ctx.channel, board) if joined.ok else joined
        if not result.ok:
            self._count_failure(ctx.channel, result)
            return Reply(_post_problem(result))
        self.metrics.boards_posted.labels("on_demand").inc()
        return None

    async def stats(self, ctx: CommandContext) -> Reply:
        """The person's own breaks (this week, month, all time) and streak in this channel."""
        state = await self._channel(ctx.channel)
        now = self.clock()
        tz = state.tz(self.default_tz)
        figures = []
        for period in ("week", "month", "all"):
            since = leaderboard.period_start(period, now=now, tz=tz)
            counts = await self.storage.breaks.counts(channel=ctx.channel, since=since)
            figures.append(counts.get(ctx.user_id, 0))
        streaks = await self._streaks(state, [ctx.user_id], now)
        streak = streaks.get(ctx.user_id, 0)
        week, month, total = figures
        lines = [
            f"Your breaks in this channel: {_plural(week, 'break')} this week, "
            f"{_plural(month, 'break')} this month, {_plural(total, 'break')} in all.",
            f"Current streak: {_plural(streak, 'scheduled day')} in a row."
            if streak
            else "No streak running yet: log a break today to start one.",
        ]
        return Reply("\n".join(lines))

    # ---- breaks -------------------------------------------------------------------------

    async def log_break(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str
    ) -> BreakChange | None:
        """Count a break for a mark (reaction or Done press) on a nudge.

        None if it is not a nudge, or the person opted out (then nothing is stored).
        The mark waits in memory for the break writer, which writes a burst in a few
        transactions and retries failed ones (marks are idempotent); see bot/batching.py.
        """
        outcome = await self.marks.submit(
            MarkChange(channel, message_id, person_id, mark, added=True, at=self.clock())
        )
        return outcome.change if outcome.nudge_id is not None else None

    async def undo_break(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str
    ) -> BreakChange | None:
        """Take back a mark; the break goes when its last mark goes. None if not a nudge."""
        outcome = await self.marks.submit(
            MarkChange(channel, message_id, person_id, mark, added=False, at=self.clock())
        )
        return outcome.change if outcome.nudge_id is not None else None

    async def queue_mark(
        self, *, channel: ChannelKey, message_id: str, person_id: str, mark: str, added: bool
    ) -> None:
        """`log_break` (added) or `undo_break` for an event that was acked already and needs
        no answer (a reaction): returns once the mark is queued. The event will not be
        redelivered, so the writer retries the mark, and logs it as an error if it still
        cannot write it."""
        await self.marks.put(
            MarkChange(channel, message_id, person_id, mark, added=added, at=self.clock())
        )

    def _mark_written(self, change: MarkChange, outcome: MarkOutcome) -> None:
        """Metrics and the log line of each break made or taken back (from the writer)."""
        if outcome.nudge_id is None or not outcome.change.changed:
            return
        counter = self.metrics.breaks_logged if change.added else self.metrics.breaks_undone
        counter.labels(change.channel.platform).inc()
        _log(
            "break.logged" if change.added else "break.undone",
            change.channel,
            nudge=outcome.nudge_id,
            person=change.person_id,
            mark=change.mark,
        )

    async def _write_posted_ids(self, posted: Sequence[PostedNudge]) -> list[None]:
        await self.storage.nudges.mark_posted_many(posted)
        return [None] * len(posted)

    async def _apply_marks(self, changes: Sequence[MarkChange]) -> list[MarkOutcome]:
        # Opt-outs are a workspace feature: checked in the same transaction when it is on.
        return await self.storage.breaks.apply_marks(changes, opt_outs=self.tenancy is not None)

    async def flush_breaks(self, grace_seconds: float) -> bool:
        """Wait until every queued mark is written (shutting down); False on timeout."""
        return await self.marks.flush(grace_seconds)

    async def channel_gone(self, channel: ChannelKey, *, reason: str) -> None:
        """The channel was archived or deleted: stop its schedule, keep its history."""
        if await self.storage.channels.get(channel) is not None:
            await self.storage.channels.disable(channel, reason=reason)
            _log("schedule.disabled", channel, reason=reason)

    # ---- people's choices and workspace settings ---------------------------------------

    async def is_opted_out(self, channel: ChannelKey, person_id: str) -> bool:
        """True when the person opted out in the channel's workspace."""
        if self.tenancy is None:
            return False
        hidden = await self.tenancy.people.opted_out(
            platform=channel.platform, team_id=channel.team_id, person_ids=[person_id]
        )
        return person_id in hidden

    async def set_opted_out(self, ctx: CommandContext, opted_out: bool) -> Reply:
        """`/stretch optout` / `optin`, for the whole workspace."""
        if self.tenancy is None:
            return Reply(NOT_AVAILABLE)
        await self.tenancy.people.set_opted_out(
            platform=ctx.channel.platform,
            team_id=ctx.channel.team_id,
            person_id=ctx.user_id,
            opted_out=opted_out,
        )
        _log("person.opted_out" if opted_out else "person.opted_in", ctx.channel, by=ctx.user_id)
        if opted_out:
            return Reply(
                "You're opted out in this workspace: I won't mention you, you're off the "
                "leaderboards, and I don't store your breaks from now on. Breaks logged before "
                "stay until you type `/stretch forget-me`; `/stretch optin` brings you back."
            )
        return Reply("Welcome back! Your breaks count again and you're on the leaderboards.")

    async def forget_me(self, ctx: CommandContext) -> Reply:
        """`/stretch forget-me`: delete the person's breaks in this workspace."""
        if self.tenancy is None:
            return Reply(NOT_AVAILABLE)
        deleted = await self.tenancy.people.forget(
            platform=ctx.channel.platform, team_id=ctx.channel.team_id, person_id=ctx.user_id
        )
        _log("person.forgotten", ctx.channel, breaks=deleted)
        if not deleted:
            return Reply("I had no breaks stored for you in this workspace; nothing to delete.")
        return Reply(
            f"Done: I deleted your {_plural(deleted, 'break')} in this workspace. "
            "`/stretch optout` stops me storing new ones."
        )

    async def set_admins_only(
        self, ctx: CommandContext, workspace: Workspace | None, enabled: bool | None
    ) -> Reply:
        """`/stretch admins-only [on|off]`: show or change who may change schedules."""
        if self.tenancy is None or workspace is None:
            return Reply(NOT_AVAILABLE)
        if enabled is None:
            who = "only workspace admins and owners" if workspace.admins_only else "anyone"
            return Reply(
                f"Here, {who} can change a channel's schedule. Admins and owners switch this "
                "with `/stretch admins-only on|off`."
            )
        refusal = await self._unless_admin(
            ctx, "Only workspace admins and owners can switch `/stretch admins-only`."
        )
        if refusal is not None:
            return refusal
        await self.tenancy.workspaces.set_admins_only(
            platform=ctx.channel.platform, team_id=ctx.channel.team_id, enabled=enabled
        )
        _log("workspace.admins_only", ctx.channel, on=enabled, by=ctx.user_id)
        if enabled:
            return Reply(
                "Done: from now on only workspace admins and owners can change schedules in "
                "this workspace. Everyone can still use `/stretch now`, `status`, `stats` and "
                "the leaderboards."
            )
        return Reply("Done: anyone in a channel can change its schedule again.")

    # ---- installs, uninstalls and retention ---------------------------------------------

    async def workspace_installed(
        self, *, platform: str, team_id: str, enterprise_id: str | None = None
    ) -> int:
        """The app was installed (again) in a workspace: it is active, and schedules an
        uninstall stopped run again. Returns how many channels were restarted."""
        if self.tenancy is None:
            return 0
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
            await self.storage.channels.save(
                replace(
                    state,
                    enabled=True,
                    next_slot_at=schedules.next_slot_after(state.spec, now),
                    next_board_at=(
                        next_weekly_board_after(state.spec.tz, now) if state.weekly_board else None
                    ),
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
        if self.tenancy is None:
            return 0
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
        if self.tenancy is None:
            return 0
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
        if self.tenancy is None:
            return []
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

    # ---- leaderboards -------------------------------------------------------------------

    async def build_board(self, channel: ChannelKey, period: Period) -> Board:
        """Rank the channel's people by breaks in the period, then by streak."""
        state = await self._channel(channel)
        now = self.clock()
        tz = state.tz(self.default_tz)
        since = leaderboard.period_start(period, now=now, tz=tz)
        counts = await self.storage.breaks.counts(channel=channel, since=since)
        if counts and self.tenancy is not None:  # people who opted out are not on boards
            hidden = await self.tenancy.people.opted_out(
                platform=channel.platform, team_id=channel.team_id, person_ids=list(counts)
            )
            counts = {person: n for person, n in counts.items() if person not in hidden}
        streaks = await self._streaks(state, list(counts), now) if counts else {}
        entries = leaderboard.rank_entries(counts, streaks)
        start = since.astimezone(ZoneInfo(tz)).date() if since else None
        return Board(title=leaderboard.period_title(period), entries=entries, period_start=start)

    async def _streaks(
        self, state: ChannelState, people: list[str], now: datetime
    ) -> dict[str, int]:
        tz = ZoneInfo(state.tz(self.default_tz))
        rows = await self.storage.breaks.break_times(
            channel=state.key, since=now - STREAK_LOOKBACK, person_ids=people
        )
        days: dict[str, set[date]] = defaultdict(set)
        for person, at in rows:
            days[person].add(at.astimezone(tz).date())
        spec = state.spec
        is_scheduled: Callable[[date], bool] = (
            (lambda day: schedules.is_scheduled_day(spec, day))
            if spec is not None
            else (lambda day: day.weekday() < 5)
        )
        today = now.astimezone(tz).date()
        return {
            person: leaderboard.current_streak(
                person_days, today=today, is_scheduled_day=is_scheduled
            )
            for person, person_days in days.items()
        }

    # ---- scheduled work -----------------------------------------------------------------

    async def run_due_nudges(self, now: datetime | None = None) -> list[NudgeOutcome]:
        """Post every nudge that is due at `now` (default: the clock), each (channel, slot) once.

        Slots missed while the bot was down are posted late only within the grace period, and
        only the latest of them; older ones are dropped. Several processes may call this at once:
        the storage claim makes one of them win each slot.

        The due channels are claimed CLAIM_BATCH at a time, in one transaction per batch, and
        posted by `post_concurrency` workers; each batch is claimed while the previous one is
        still being posted, and the posted message ids are written in batches too. On shutdown
        (`stop_claiming`) posts under way finish and claimed slots not yet posted are given back,
        so a restart or another replica posts them.
        """
        now = now or self.clock()
        outcomes: list[NudgeOutcome] = []
        platforms = sorted(self.chats)
        # Claim ahead only a few posts' worth: a process killed between claim and post loses
        # those slots (at most once beats twice), and the other replicas get the rest.
        claim_batch = min(CLAIM_BATCH, 4 * max(1, self.post_concurrency))
        queue: asyncio.Queue[_Claimed | None] = asyncio.Queue(maxsize=claim_batch)
        unposted: list[_Claimed] = []

        async def worker() -> None:
            while (claimed := await queue.get()) is not None:
                if self._stopping:  # give it back: a restart or another replica posts it
                    unposted.append(claimed)
                    continue
                try:
                    outcomes.append(await self._post_claimed(claimed))
                except Exception:  # one broken channel must never stop the others
                    logger.exception("nudge.error channel=%s", claimed.state.key.channel_id)
                    outcomes.append(
                        NudgeOutcome(claimed.state.key, "failed", claimed.slot, "error")
                    )

        seen: set[ChannelKey] = set()
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan] = {}
        async with self._working():
            workers = [asyncio.create_task(worker()) for _ in range(max(1, self.post_concurrency))]
            try:
                while not self._stopping:
                    due = [
                        s
                        for s in await self.storage.channels.due_for_nudge(
                            now=now, limit=DUE_BATCH, platforms=platforms
                        )
                        if s.key not in seen
                    ]
                    if not due:
                        break
                    seen.update(s.key for s in due)
                    # Replicas read the same due list; each walks it in its own order so they
                    # mostly claim different channels instead of racing for the same ones.
                    self.rng.shuffle(due)
                    for start in range(0, len(due), claim_batch):
                        if self._stopping:  # leave the rest due for a restart or another replica
                            break
                        batch = due[start : start + claim_batch]
                        try:
                            won = await self._claim_batch(batch, now, plans, outcomes)
                        except Exception:  # the batch stays due; the next tick tries again
                            logger.exception("nudge.error a batch of %d channels", len(batch))
                            outcomes.extend(
                                NudgeOutcome(s.key, "failed", s.next_slot_at, "error")
                                for s in batch
                            )
                            continue
                        for claimed in won:
                            await queue.put(claimed)
            finally:
                for _ in workers:
                    await queue.put(None)
                await asyncio.gather(*workers)
                if not await self.posted_ids.flush(POSTED_FLUSH_SECONDS):
                    logger.warning("posted nudge ids still being written after a pass")
                if unposted:
                    await self._give_back(unposted, outcomes)
        return outcomes

    def _plan(
        self,
        state: ChannelState,
        now: datetime,
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan],
    ) -> _SlotPlan:
        """The slot to post now (None: stale) and the next one; shared by every channel with
        the same schedule and cursor (at a fan-out, most of them)."""
        spec, expected = state.spec, state.next_slot_at
        assert spec is not None and expected is not None
        plan = plans.get((spec, expected))
        if plan is None:
            oldest_allowed = max(expected, now - self.grace)
            missed = list(
                schedules.slots_between(spec, oldest_allowed, now + timedelta(microseconds=1))
            )
            plan = _SlotPlan(
                slot=missed[-1] if missed else None, next_slot=schedules.next_slot_after(spec, now)
            )
            plans[(spec, expected)] = plan
        return plan

    async def _claim_batch(
        self,
        batch: list[ChannelState],
        now: datetime,
        plans: dict[tuple[schedules.ScheduleSpec, datetime], _SlotPlan],
        outcomes: list[NudgeOutcome],
    ) -> list[_Claimed]:
        """Decide each channel's slot (post, or skip as stale or paused) and claim the whole
        batch in one transaction; returns the claims won, to post."""
        moves: list[SlotMove] = []
        picks: dict[ChannelKey, tuple[ChannelState, datetime, Exercise | None, str]] = {}
        unknown = [s.key for s in batch if s.recent_exercises is None]
        read = (
            await self.storage.nudges.recent_exercise_keys_many(
                channels=unknown, limit=RECENT_WINDOW
            )
            if unknown
            else {}
        )
        for state in batch:
            key, expected = state.key, state.next_slot_at
            try:
                plan = self._plan(state, now, plans)
                assert expected is not None
                if plan.slot is None:
                    moves.append(SlotMove(key, expected, plan.next_slot))
                    picks[key] = (state, expected, None, "skipped_stale")
                    continue
                if plan.slot != expected:
                    self.metrics.nudges_skipped.labels("stale").inc()
                    _log(
                        "nudge.skipped_stale",
                        key,
                        slot=expected.isoformat(),
                        superseded_by=plan.slot.isoformat(),
                    )
                if _is_paused(state, plan.slot):
                    moves.append(SlotMove(key, expected, plan.next_slot))
                    picks[key] = (state, plan.slot, None, "skipped_paused")
                    continue
                recent = (
                    state.recent_exercises[:RECENT_WINDOW]
                    if state.recent_exercises is not None
                    else tuple(read.get(key, ()))
                )
                exercise = pick_exercise(recent, seated_only=state.seated_only, rng=self.rng)
                moves.append(
                    SlotMove(
                        key,
                        expected,
                        plan.next_slot,
                        slot_at=plan.slot,
                        exercise_key=exercise.key,
                        recent_exercises=(exercise.key, *recent)[:RECENT_WINDOW],
                    )
                )
                picks[key] = (state, plan.slot, exercise, "claimed")
            except Exception:  # one broken channel must never stop the others
                logger.exception("nudge.error channel=%s", key.channel_id)
                outcomes.append(NudgeOutcome(key, "failed", expected, "error"))
        try:
            won = await self.storage.nudges.move_slots(moves)
        except Exception:  # the batch stays due; the next tick tries again
            logger.exception("nudge.error claiming a batch of %d channels", len(moves))
            outcomes.extend(
                NudgeOutcome(m.channel, "failed", m.expected_slot_at, "error") for m in moves
            )
            return []
        claimed: list[_Claimed] = []
        for move in moves:
            state, slot, picked, decision = picks[move.channel]
            if move.channel not in won:
                outcomes.append(NudgeOutcome(move.channel, "lost_race", slot))
                continue
            nudge = won[move.channel]
            if nudge is not None and picked is not None:
                claimed.append(_Claimed(state, nudge, move, picked, slot))
            elif decision == "skipped_stale":
                self.metrics.nudges_skipped.labels("stale").inc()
                _log(
                    "nudge.skipped_stale",
                    move.channel,
                    slot=slot.isoformat(),
                    late=f"{(now - slot).total_seconds():.0f}s",
                )
                outcomes.append(NudgeOutcome(move.channel, "skipped_stale", slot))
            else:
                self.metrics.nudges_skipped.labels("paused").inc()
                _log("nudge.skipped_paused", move.channel, slot=slot.isoformat())
                outcomes.append(NudgeOutcome(move.channel, "skipped_paused", slot))
        return claimed

    async def _post_claimed(self, claimed: _Claimed) -> NudgeOutcome:
        key, slot, exercise = claimed.state.key, claimed.slot, claimed.exercise
        result = await self._chat(key).post_nudge(key, exercise)
        if result.ok and result.message_id:
            posted_at = self.clock()
            await self.posted_ids.put(PostedNudge(claimed.nudge.id, result.message_id, posted_at))
            self.metrics.nudges_posted.labels(key.platform, "scheduled").inc()
            self.metrics.slot_lateness.observe(max(0.0, (posted_at - slot).total_seconds()))
            _log(
                "nudge.posted",
                key,
                slot=slot.isoformat(),
                exercise=exercise.key,
                late=f"{(posted_at - slot).total_seconds():.0f}s",
            )
            return NudgeOutcome(key, "posted", slot)
        reason = result.detail or str(result.error)
        await self.storage.nudges.mark_failed(claimed.nudge.id, reason=reason)
        self._count_failure(key, result)
        _log("nudge.failed", key, slot=slot.isoformat(), reason=reason)
        if result.error in (PostError.CHANNEL_GONE,):
            await self.channel_gone(key, reason=result.detail or "channel_gone")
        return NudgeOutcome(key, "failed", slot, reason)

    async def _give_back(self, unposted: list[_Claimed], outcomes: list[NudgeOutcome]) -> None:
        """Shutting down: release claims nobody will post, so their slots are due again."""
        try:
            released = await self.storage.nudges.release_claims(
                [(claimed.nudge, claimed.move) for claimed in unposted]
            )
        except Exception:
            logger.exception("nudge.release_failed count=%d", len(unposted))
            return
        for claimed in unposted:
            _log("nudge.released", claimed.state.key, slot=claimed.slot.isoformat())
            outcomes.append(NudgeOutcome(claimed.state.key, "released", claimed.slot))
        logger.info("nudge.released %d of %d claims given back", released, len(unposted))

    async def run_due_boards(self, now: datetime | None = None) -> list[NudgeOutcome]:
        """Post the weekly leaderboard in channels whose board time has come (once per week)."""
        now = now or self.clock()
        outcomes: list[NudgeOutcome] = []
        due = await self.storage.channels.due_for_board(
            now=now, limit=DUE_BATCH, platforms=sorted(self.chats)
        )
        for state in due:
            try:
                outcomes.append(await self._run_due_board(state, now))
            except Exception:
                logger.exception("board.error channel=%s", state.key.channel_id)
        return outcomes

    async def _run_due_board(self, state: ChannelState, now: datetime) -> NudgeOutcome:
        due = state.next_board_at
        assert due is not None
        tz = state.tz(self.default_tz)
        moved = await self.storage.channels.set_next_board(
            state.key, expected=due, next_board_at=next_weekly_board_after(tz, now)
        )
        if not moved:
            return NudgeOutcome(state.key, "lost_race", due)
        if now - due > BOARD_GRACE:
            _log("board.skipped_stale", state.key, due=due.isoformat())
            return NudgeOutcome(state.key, "skipped_stale", due)
        if not state.enabled or _is_paused(state, now):
            _log("board.skipped_paused", state.key, due=due.isoformat())
            return NudgeOutcome(state.key, "skipped_paused", due)
        iso = due.astimezone(ZoneInfo(tz)).isocalendar()
        if not await self.storage.boards.claim_board(
            channel=state.key, period_key=f"{iso.year}-W{iso.week:02d}"
        ):
            return NudgeOutcome(state.key, "lost_race", due)
        board = await self.build_board(state.key, "week")
        if not board.entries:
            _log("board.skipped_empty", state.key, due=due.isoformat())
            return NudgeOutcome(state.key, "skipped_empty", due)
        result = await self._chat(state.key).post_board(state.key, board)
        if not result.ok:
            self._count_failure(state.key, result)
            _log("board.failed", state.key, reason=result.detail or str(result.error))
            if result.error is PostError.CHANNEL_GONE:
                await self.channel_gone(state.key, reason=result.detail or "channel_gone")
            return NudgeOutcome(state.key, "failed", due, result.detail)
        self.metrics.boards_posted.labels("weekly").inc()
        _log("board.posted", state.key, entries=len(board.entries))
        return NudgeOutcome(state.key, "posted", due)

    # ---- helpers ------------------------------------------------------------------------

    def _count_failure(self, channel: ChannelKey, result: PostResult) -> None:
        reason = result.detail.split(":", 1)[0] if result.detail else str(result.error)
        self.metrics.posts_failed.labels(channel.platform, reason).inc()

    def _chat(self, channel: ChannelKey) -> Chat:
        return self.chats[channel.platform]

    async def _workspace(self, ctx: CommandContext) -> Workspace | None:
        """The command's workspace (recorded on first sight). A command can only arrive from
        an installed app, so one from a workspace marked uninstalled means it is back."""
        if self.tenancy is None:
            return None
        workspace = await self.tenancy.workspaces.ensure(
            platform=ctx.channel.platform,
            team_id=ctx.channel.team_id,
            enterprise_id=ctx.enterprise_id,
        )
        if not workspace.installed:
            await self.workspace_installed(
                platform=workspace.platform,
                team_id=workspace.team_id,
                enterprise_id=workspace.enterprise_id,
            )
            workspace = replace(workspace, installed=True, uninstalled_at=None)
        return workspace

    async def _command_channel(self, ctx: CommandContext) -> ChannelState | None:
        """The channel's state, with `_workspace`'s bookkeeping folded into the same read:
        one query when the workspace is known, installed and its organization unchanged
        (every command but the first from a workspace); otherwise `_workspace`, then the
        channel again (a reinstall may just have restarted its schedule)."""
        if self.tenancy is None:
            return await self.storage.channels.get(ctx.channel)
        found = await self.tenancy.workspaces.get_with_channel(ctx.channel)
        if found is not None:
            workspace, state = found
            if workspace.installed and ctx.enterprise_id in (None, workspace.enterprise_id):
                return state
        await self._workspace(ctx)
        return await self.storage.channels.get(ctx.channel)

    async def _unless_admin(self, ctx: CommandContext, refusal: str) -> Reply | None:
        """None when the person is a workspace admin or owner, else a friendly refusal."""
        chat = self._chat(ctx.channel)
        admin = (
            await chat.is_workspace_admin(ctx.channel.team_id, ctx.user_id)
            if isinstance(chat, KnowsAdmins)
            else False
        )
        if admin:
            return None
        if admin is None:
            return Reply("I couldn't check your workspace role just now; try again in a minute.")
        _log("command.refused", ctx.channel, reason="admins_only", by=ctx.user_id)
        return Reply(refusal)

    async def _take_now_cooldown(self, channel: ChannelKey) -> datetime | None:
        if self.tenancy is None or self.now_cooldown <= timedelta(0):
            return None
        return await self.tenancy.cooldowns.take(
            platform=channel.platform,
            team_id=channel.team_id,
            action="now",
            subject=channel.channel_id,
            now=self.clock(),
            period_seconds=self.now_cooldown.total_seconds(),
        )

    async def _who(self, ctx: CommandContext) -> str:
        """How public replies name the person: a mention, unless they opted out."""
        if await self.is_opted_out(ctx.channel, ctx.user_id):
            return "Someone"
        return f"<@{ctx.user_id}>"

    async def _addressed(self, ctx: CommandContext, text: str) -> str:
        if await self.is_opted_out(ctx.channel, ctx.user_id):
            return _capitalize(text)
        return f"<@{ctx.user_id}>: {text}"

    async def _channel(self, key: ChannelKey) -> ChannelState:
        return await self.storage.channels.get(key) or ChannelState(key=key)

    async def _pick(self, state: ChannelState) -> Exercise:
        recent = await self._recent(state)
        return pick_exercise(recent, seated_only=state.seated_only, rng=self.rng)

    async def _recent(self, state: ChannelState) -> tuple[str, ...]:
        """The channel's latest picks, most recent first: stored on the channel, or read from
        its nudges when not known (a channel from before migration 0004, after `now`)."""
        if state.recent_exercises is not None:
            return state.recent_exercises[:RECENT_WINDOW]
        return tuple(
            await self.storage.nudges.recent_exercise_keys(channel=state.key, limit=RECENT_WINDOW)
        )


def next_weekly_board_after(tz: str, after: datetime) -> datetime:
    """The next Friday 16:00 in `tz` strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(WEEKLY_BOARD_DAY - local.weekday()) % 7)
    while True:
        candidate = datetime.combine(day, WEEKLY_BOARD_TIME, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=7)


def exercise_for(key: str) -> Exercise | None:
    """The catalog exercise for a stored nudge (None if it has left the catalog)."""
    return find_exercise(key)


def _is_paused(state: ChannelState, at: datetime) -> bool:
    """Paused at `at`: paused until resumed, or until a time still after `at`."""
    return state.paused and (state.paused_until is None or state.paused_until > at)


def _pause_end(state: ChannelState, now: datetime) -> datetime | None:
    """The pause's end if it is still in the future; None when not paused by time."""
    if state.paused and state.paused_until is not None and state.paused_until > now:
        return state.paused_until
    return None


def _period(value: str) -> Period:
    if value == "month":
        return "month"
    if value == "all":
        return "all"
    return "week"


def _period_phrase(period: Period) -> str:
    return {"week": "this week", "month": "this month", "all": "so far"}[period]


def _valid_tz(tz: str) -> bool:
    try:
        ZoneInfo(tz)
    except Exception:
        return False
    return True


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(moment: datetime, tz: str, now: datetime) -> str:
    """'today 10:30', 'tomorrow 09:45' or 'Mon 24 Nov 09:45' in the channel's timezone.

    Formatted by hand, not with strftime: the same English whatever the process locale, and
    cheaper (`/stretch status` formats five of these on every call)."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date()
    today = now.astimezone(zone).date()
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if day == today:
        return f"today {clock}"
    if day == today + timedelta(days=1):
        return f"tomorrow {clock}"
    return f"{_DAY_NAMES[day.weekday()]} {day.day:02d} {_MONTH_NAMES[day.month - 1]} {clock}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _post_problem(result: PostResult) -> str:
    match result.error:
        case PostError.NOT_IN_CHANNEL:
            return "I'm not in this channel. Invite me with `/invite @stretchbot` and try again."
        case PostError.CHANNEL_GONE:
            return "I can't post here: this channel is archived or I can't see it."
        case PostError.AUTH:
            return "My access to this workspace isn't valid any more; ask an admin to reinstall the app."
        case PostError.RATE_LIMITED:
            return "The chat service is rate-limiting me right now; try again in a minute."
        case _:
            return "I couldn't post here just now; please try again in a moment."


def _log(event: str, channel: ChannelKey, **fields: object) -> None:
    """One structured line per decision: `event platform=.. team=.. channel=.. key=value ...`."""
    extra = " ".join(f"{k}={v}" for k, v in fields.items())
    logger.info(
        "%s platform=%s team=%s channel=%s %s",
        event,
        channel.platform,
        channel.team_id,
        channel.channel_id,
        extra,
    )
