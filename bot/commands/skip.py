"""`/stretch skip`: skip the channel's next scheduled nudge (also the nudge menu's "Skip the
next nudge"). One skip at a time: it moves the channel's slot cursor past that slot with the
scheduler's own compare-and-set, so a slot being claimed right now is never half skipped, and
`/stretch status` shows the skipped time."""

from __future__ import annotations

from dataclasses import dataclass

from bot import rules
from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, nothing_after
from bot.i18n import N_, _
from bot.ports import SlotMove
from bot.replies import when
from bot.schedules import next_slot_after

USAGE = "/stretch skip"


@dataclass(frozen=True)
class SkipCommand(CommandBase):
    changes_schedule = True

    async def run(self, call: Call) -> Reply:
        state, now = call.channel, call.now
        spec, cursor = state.spec, state.next_slot_at
        if spec is None or not state.enabled or cursor is None:
            return Reply(_("There's no schedule running here, so there's no nudge to skip."))
        already = rules.skipped_slots(state, now)
        if already:
            return Reply(
                _(
                    "The next nudge ({when}) is already skipped. `/stretch status` shows the rest."
                ).format(when=when(already[0], spec.tz, now))
            )
        if cursor <= now:
            return Reply(_("A nudge is going out right now; try again in a minute."))
        slot = rules.slot_to_skip(state, now)
        if slot is None:
            return Reply(_("Nudges are paused here until `/stretch resume`: nothing to skip."))
        after = next_slot_after(spec, slot)
        won = await call.services.storage.nudges.move_slots(
            [SlotMove(channel=call.key, expected_slot_at=cursor, next_slot_at=after)]
        )
        if call.key not in won:
            return Reply(_("The schedule changed just now; try again in a minute."))
        call.services.log("schedule.skipped", call.key, slot=slot.isoformat(), by=call.ctx.user_id)
        text = _("{who} skipped the next movement break ({when}).").format(
            who=await call.who(), when=when(slot, spec.tz, now)
        )
        if after is not None:
            text += " " + _("Next nudge: {when}.").format(when=when(after, spec.tz, now))
        return Reply(text, public=True)


def parse(args: Args) -> SkipCommand:
    nothing_after(args, "skip", USAGE)
    return SkipCommand()


WORDS = [
    Word(
        names=("skip",),
        usage=USAGE,
        help=N_("`/stretch skip`: skip this channel's next scheduled nudge"),
        parse=parse,
    )
]
