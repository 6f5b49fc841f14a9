"""`/stretch me every 1h [09:00-17:00] [weekdays] [tz Europe/Berlin]`, `/stretch me off` and
`/stretch me`: personal reminders by DM, only for you. The schedule is the channel grammar's
(bot/commands/schedule.py) on the bot's DM with the person, marked personal, so the scheduler
treats it like any channel's; before each reminder it checks the person is not busy
(bot/reminders.py). Slack only: other platforms answer that they cannot DM on a schedule yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot import leaderboard, rules
from bot.commands import schedule
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid
from bot.i18n import N_, _, ngettext
from bot.ports import ChannelKey, ChannelState
from bot.reminders import OpensDirect
from bot.replies import when
from bot.schedules import next_slot_after

USAGE = "/stretch me every 1h [09:00-17:00] [weekdays] [tz Europe/Berlin] | /stretch me off"


@dataclass(frozen=True)
class MeCommand(CommandBase):
    """Show, set or turn off the person's own reminders."""

    action: Literal["show", "set", "off"]
    schedule: schedule.ScheduleCommand | None = None

    personal = True  # only about the person: only they see the answer
    needs_channel = False  # works in a channel and in the DM alike

    @property
    def read_only(self) -> bool:  # type: ignore[override]
        return self.action == "show"

    async def run(self, call: Call) -> Reply:
        if self.action == "set":
            return await self._set(call)
        found = await call.services.storage.reminders.find(
            platform=call.key.platform, team_id=call.key.team_id, person_id=call.ctx.user_id
        )
        if self.action == "off":
            return await _off(call, found)
        return await _show(call, found)

    async def _set(self, call: Call) -> Reply:
        assert self.schedule is not None
        chat = call.chat
        if not isinstance(chat, OpensDirect):
            return Reply(_(_NOT_HERE))
        tz = self.schedule.tz
        if tz is None:
            tz = await chat.user_timezone(call.key.team_id, call.ctx.user_id)
            tz = tz if tz and schedule.valid_tz(tz) else call.services.default_tz
        spec = self.schedule.to_spec(tz)
        dm = await chat.open_direct(call.key.team_id, call.ctx.user_id)
        if dm is None:
            return Reply(_("I couldn't open a direct message with you just now; try again soon."))
        key = ChannelKey(call.key.platform, call.key.team_id, dm)
        stored = await call.services.storage.channels.get(key) or ChannelState(key=key)
        now = call.services.clock()
        state = rules.running(
            replace(stored, weekly_board=False, personal_for=call.ctx.user_id),
            now,
            spec=spec,
            by=call.ctx.user_id,
        )
        await call.services.storage.channels.save(state)
        call.services.log("reminder.set", key, spec=spec.to_text(), by=call.ctx.user_id)
        lines = [
            _("I'll remind you by direct message: {schedule}.").format(schedule=spec.describe())
        ]
        if state.next_slot_at is not None:
            lines.append(
                _("First reminder: {when}.").format(when=when(state.next_slot_at, spec.tz, now))
            )
        lines.append(_(_MEETINGS))
        lines.append(_("`/stretch me` shows them, `/stretch me off` stops them."))
        return Reply("\n".join(lines), personal=True)


_NOT_HERE = N_(
    "Personal reminders come by Slack direct message; here I can't send them on a schedule "
    "yet. Use `/stretch every 45m` for a channel, or `/stretch me every 1h` in Slack."
)
_MEETINGS = N_(
    "If you're in Do Not Disturb, a huddle or a meeting (your status says so) when one is due, "
    "it comes a few minutes after you're free, within the window, or is skipped."
)


async def _off(call: Call, found: ChannelState | None) -> Reply:
    if found is None or not found.enabled:
        return Reply(_("You have no personal reminders running."), personal=True)
    await call.services.storage.channels.save(rules.turned_off(found, by=call.ctx.user_id))
    call.services.log("reminder.off", found.key, by=call.ctx.user_id)
    return Reply(
        _("Personal reminders off. `/stretch me every 1h` starts them again."), personal=True
    )


async def _show(call: Call, found: ChannelState | None) -> Reply:
    if found is None or found.spec is None:
        return Reply(
            _("You have no personal reminders. Try `/stretch me every 1h 09:00-17:00`."),
            personal=True,
        )
    spec, now = found.spec, call.services.clock()
    lines = [_("Your personal reminders: {schedule}.").format(schedule=spec.describe())]
    if not found.enabled:
        lines.append(_("Off for now: `/stretch me every 1h` starts them again."))
    elif found.slid_from is not None and found.next_slot_at is not None:
        lines.append(
            _("Your reminder of {slot} moved to {when}: you were busy.").format(
                slot=when(found.slid_from, spec.tz, now),
                when=when(found.next_slot_at, spec.tz, now),
            )
        )
    else:
        upcoming = found.next_slot_at
        if upcoming is None or upcoming <= now:
            upcoming = next_slot_after(spec, now)
        if upcoming is not None:
            lines.append(_("Next reminder: {when}.").format(when=when(upcoming, spec.tz, now)))
    week_start = leaderboard.period_start("week", now=now, tz=spec.tz)
    assert week_start is not None
    skipped = await call.services.storage.reminders.skipped_since(found.key, since=week_start)
    if skipped:
        lines.append(
            ngettext(
                "This week {count} reminder was skipped while you were busy.",
                "This week {count} reminders were skipped while you were busy.",
                skipped,
            ).format(count=skipped)
        )
    lines.append(_(_MEETINGS))
    return Reply("\n".join(lines), personal=True)


def parse(args: Args) -> MeCommand:
    if not args.tokens:
        return MeCommand("show")
    first = args.lowered[0]
    if first == "off":
        if len(args.tokens) > 1:
            raise Invalid(_("`/stretch me off` takes nothing after it."), USAGE)
        return MeCommand("off")
    if first == "every":
        try:
            parsed = schedule.parse(Args.of("every", list(args.tokens[1:])))
        except Invalid as invalid:  # the channel grammar's message, with this command's usage
            raise Invalid(invalid.error.message, USAGE) from None
        return MeCommand("set", parsed)
    raise Invalid(_("Start with `every`, e.g. `/stretch me every 1h 09:00-17:00`."), USAGE)


WORDS = [
    Word(
        names=("me",),
        usage=USAGE,
        help=N_(
            "`/stretch me every 1h 09:00-17:00`: your own reminders by direct message, paused "
            "while you're in Do Not Disturb, a huddle or a meeting; `/stretch me` shows them, "
            "`/stretch me off` stops them (only you see the answers)"
        ),
        parse=parse,
        summary="me every 1h ...",
    )
]
