"""Group breaks (`/stretch together`): the card posted with its routine and start, the live roll
call (coalesced card updates) and Done, which credits a break to everyone who joined.

Who may press Done: the people who joined, and whoever called the break (see
`bot.together.may_finish`), once the start time has come. Each joiner is credited once, however
often or by whom Done is pressed: the credit is a mark on the group break's nudge, which the
break writer stores once per person.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.breaks import BreakService
from bot.coalescing import UpdateCoalescer
from bot.decisions import log_decision
from bot.i18n import N_, _, ngettext, use_locale
from bot.languages import channel_language
from bot.ports import ChannelKey, ChannelState, Chat, PostError, PostResult, Storage
from bot.replies import when
from bot.team_ports import GROUP_BREAK_MARK, GroupBreak, GroupBreakChat, credit_message_id
from bot.together import START_DELAY, build_routine, may_finish

logger = logging.getLogger("stretchbot.services.group_breaks")

Clock = Callable[[], datetime]

NOT_A_GROUP_BREAK = N_(
    "That group break isn't one I know any more. Start one with `/stretch together`."
)


@dataclass(frozen=True)
class PressAnswer:
    """What to tell the person who pressed a card's button (only them)."""

    text: str
    group: GroupBreak | None = None


def start_time(now: datetime) -> datetime:
    """A minute ahead, on the whole minute (so the card's time reads cleanly)."""
    ahead = now + START_DELAY
    seconds = math.ceil(ahead.timestamp() / 60) * 60
    return datetime.fromtimestamp(seconds, tz=now.tzinfo)


class GroupBreakService:
    """Starts group breaks, keeps their roll calls and finishes them."""

    def __init__(
        self,
        storage: Storage,
        chats: Mapping[str, Chat],
        breaks: BreakService,
        *,
        clock: Clock,
        rng: random.Random | None = None,
        card_update_seconds: float = 3.0,
        default_tz: str = "UTC",
    ) -> None:
        self.default_tz = default_tz
        self.storage = storage
        self.chats = chats
        self.breaks = breaks
        self.clock = clock
        self.rng = rng or random.Random()
        self.cards: UpdateCoalescer[tuple[ChannelKey, str]] = UpdateCoalescer(
            self._refresh, interval=card_update_seconds, what="group break card"
        )

    async def _off(self, key: ChannelKey) -> frozenset[str]:
        """The built-ins the channel's workspace turned off (none when that cannot be read)."""
        try:
            workspace = await self.storage.exercises.load(
                platform=key.platform, team_id=key.team_id
            )
        except Exception:
            logger.exception("exercises.read_failed team=%s: every built-in", key.team_id)
            return frozenset()
        return workspace.off

    async def start(self, state: ChannelState, *, by: str, minutes: int) -> PostResult:
        """Post a group break card with a routine for `minutes` into the channel."""
        key = state.key
        chat = self.chats[key.platform]
        now = self.clock()
        routine = build_routine(
            minutes, seated_only=state.seated_only, rng=self.rng, without=await self._off(key)
        )
        group = await self.storage.group_breaks.create(
            channel=key,
            started_by=by,
            routine=routine,
            starts_at=start_time(now),
            tz=state.tz(self.default_tz),
        )
        if not isinstance(chat, GroupBreakChat):
            await self.storage.group_breaks.mark_failed(group.id, reason="unsupported")
            return PostResult(error=PostError.OTHER, detail="group breaks unsupported")
        result = await chat.post_group_break(group, now=now)
        if result.error is PostError.NOT_IN_CHANNEL:
            joined = await chat.ensure_member(key)
            result = await chat.post_group_break(group, now=now) if joined.ok else joined
        if result.ok and result.message_id:
            await self.storage.group_breaks.mark_posted(
                group.id, message_id=result.message_id, posted_at=self.clock()
            )
            log_decision(
                "together.posted", key, minutes=minutes, moves=",".join(routine.keys), by=by
            )
            return result
        reason = result.detail or str(result.error)
        await self.storage.group_breaks.mark_failed(group.id, reason=reason)
        log_decision("together.failed", key, reason=reason)
        return result if not result.ok else PostResult(error=PostError.OTHER, detail="no_ts")

    async def join(self, *, channel: ChannelKey, message_id: str, person_id: str) -> PressAnswer:
        """Pressing "I'm in": add the person to the roll call and refresh the card (coalesced).
        Someone who opted out is not added: the roll call names people, and their breaks are
        not kept."""
        now = self.clock()
        if await self.breaks.is_opted_out(channel, person_id):
            return PressAnswer(
                _(
                    "You've opted out here, so I don't name you or store your breaks. Move "
                    "along anyway! `/stretch optin` counts you again."
                )
            )
        outcome = await self.storage.group_breaks.join(
            channel=channel, message_id=message_id, person_id=person_id, at=now
        )
        group = outcome.group
        if group is None:
            return PressAnswer(_(NOT_A_GROUP_BREAK))
        if group.done:
            return PressAnswer(_("This group break is over. Catch the next one!"), group)
        if not outcome.joined:
            return PressAnswer(_("You're already in. See you there!"), group)
        self.cards.touch((channel, message_id))
        log_decision("together.joined", channel, person=person_id, count=len(group.joiners))
        return PressAnswer(
            _("You're in! We start {when}; press Done when the routine is over.").format(
                when=when(group.starts_at, group.tz, now)
            ),
            group,
        )

    async def finish(self, *, channel: ChannelKey, message_id: str, person_id: str) -> PressAnswer:
        """Done: once the start time has come, credit a break to every joiner (once each)."""
        now = self.clock()
        group = await self.storage.group_breaks.find(channel=channel, message_id=message_id)
        if group is None:
            return PressAnswer(_(NOT_A_GROUP_BREAK))
        if group.done:
            await self._credit(group)  # idempotent: completes a credit an error cut short
            return PressAnswer(_("Already done: everyone who joined got their break."), group)
        if not may_finish(person_id, joiners=group.joiners, started_by=group.started_by):
            return PressAnswer(
                _("Press *I'm in* first: Done is for the people doing this break."), group
            )
        if not group.joiners:
            return PressAnswer(_("Nobody has joined yet: press *I'm in* to do it together."), group)
        if now < group.starts_at - timedelta(seconds=1):
            return PressAnswer(
                _("We start {when}: press Done once you've done the routine.").format(
                    when=when(group.starts_at, group.tz, now)
                ),
                group,
            )
        outcome = await self.storage.group_breaks.finish(
            channel=channel, message_id=message_id, person_id=person_id, at=now
        )
        finished = outcome.group
        if finished is None:
            return PressAnswer(_(NOT_A_GROUP_BREAK))
        credited = await self._credit(finished)
        self.cards.touch((channel, message_id))
        if not outcome.finished:
            return PressAnswer(_("Already done: everyone who joined got their break."), finished)
        log_decision(
            "together.done", channel, by=person_id, joiners=len(finished.joiners), credited=credited
        )
        return PressAnswer(
            ngettext(
                "Done! A break is logged for the {count} person who joined. 💪",
                "Done! A break is logged for each of the {count} people who joined. 💪",
                len(finished.joiners),
            ).format(count=len(finished.joiners)),
            finished,
        )

    async def _credit(self, group: GroupBreak) -> int:
        """A break for each joiner on the group break's nudge; returns how many were new."""
        if group.message_id is None or not group.joiners:
            return 0
        outcomes = await asyncio.gather(
            *(
                self.breaks.log_break(
                    channel=group.channel,
                    message_id=credit_message_id(group.message_id),
                    person_id=person,
                    mark=GROUP_BREAK_MARK,
                )
                for person in group.joiners
            )
        )
        return sum(1 for outcome in outcomes if outcome.change.changed)

    async def _refresh(self, target: tuple[ChannelKey, str]) -> None:
        channel, message_id = target
        group = await self.storage.group_breaks.find(channel=channel, message_id=message_id)
        chat = self.chats.get(channel.platform)
        if group is None or not isinstance(chat, GroupBreakChat):
            return
        state = await self.storage.channels.get(channel)
        with use_locale(channel_language(state)):
            result = await chat.update_group_break(group, now=self.clock())
        if not result.ok:
            logger.warning(
                "together.card_update_failed channel=%s: %s", channel.channel_id, result.detail
            )
