"""The nudge's own menu: a seated version of its exercise (answered only to the presser),
and the words its other entries run as the presser (`skip`, `pause until tomorrow`), so they
go through the same commands, checks and `admins-only` rule as typed ones."""

from __future__ import annotations

import random

from bot.exercises import Exercise, find_exercise, pick_exercise
from bot.i18n import _
from bot.ports import ChannelKey, Storage

# What the menu's schedule entries run, as the person who picked them.
SKIP_WORDS = "skip"
PAUSE_TODAY_WORDS = "pause until tomorrow"  # local midnight: the rest of today's window


class NudgeMenuService:
    """Answers the nudge menu's "Seated version"."""

    def __init__(self, storage: Storage, *, rng: random.Random | None = None) -> None:
        self.storage = storage
        self.rng = rng or random.Random()

    async def seated_alternative(self, channel: ChannelKey, message_id: str) -> Exercise:
        """A seated exercise other than the nudge's own (any seated one for an unknown
        message)."""
        nudge = await self.storage.nudges.find_by_message(channel=channel, message_id=message_id)
        posted = find_exercise(nudge.exercise_key) if nudge is not None else None
        recent = (posted.key,) if posted is not None else ()
        return pick_exercise(recent, seated_only=True, rng=self.rng)

    async def seated_version(self, channel: ChannelKey, message_id: str) -> str:
        """The private answer to "Seated version": one seated exercise with its dose."""
        exercise = await self.seated_alternative(channel, message_id)
        return _("Seated version: *{name}*\n{how_to}\n_{dose}_").format(
            name=exercise.name, how_to=exercise.how_to, dose=exercise.dose
        )
