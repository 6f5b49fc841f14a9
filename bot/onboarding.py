"""Onboarding: the one hello the bot says when it joins a channel or a workspace installs it,
with the two next steps (set a schedule, take a break now), said at most once per place.

"Once" is a cooldown that never ends in the shared `cooldowns` table (action `hello`): the
same atomic upsert that keeps `/stretch now` to one post across replicas keeps a duplicate
or retried `member_joined_channel` from saying hello twice, it needs no schema change, and a
workspace purge deletes it with the rest of the workspace. It names a channel or a
workspace, never a person, so there is nothing to export. A process also remembers the
channels it greeted for ten minutes, so redelivered events cost no query.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.commands.base import Button, Reply
from bot.i18n import N_, _
from bot.ports import ChannelKey, Storage
from bot.workspaces import Tenancy

Clock = Callable[[], datetime]

HELLO_ACTION = "hello"
# Longer than any workspace keeps the bot: "never again" in a table of cooldowns.
FOREVER = timedelta(days=365 * 200)
WORKSPACE_SUBJECT = "workspace"  # the installer's hello: one per workspace, not per channel
REMEMBER_FOR = timedelta(minutes=10)  # a process skips the database for a repeat this long
SET_SCHEDULE = N_("Set a schedule")
BREAK_NOW = N_("Take a break now")


def channel_hello() -> Reply:
    """What the bot says in a channel it has just joined."""
    return Reply(
        _(
            "Hi, I'm stretchbot 👋 I post short movement breaks here (butt clenches, heel lifts, "
            "marching in place) so sitting all day hurts less. Set a schedule for this channel, "
            "or take a break right now. React ✅ to a break when you've moved. "
            "`/stretch help` shows everything."
        ),
        public=True,
        buttons=(Button(_(SET_SCHEDULE), "settings", "primary"), Button(_(BREAK_NOW), "now")),
    )


def installer_hello() -> Reply:
    """What the person who installed the bot finds in their DM with it. A DM has no schedule
    of its own: each platform adds its own "Set a schedule" that asks for a channel first."""
    return Reply(
        _(
            "Thanks for installing stretchbot 👋 I post short movement breaks in your team's "
            "channels. Add me to a channel (`/invite @stretchbot`) or set a schedule for one "
            "now; take a break right here to see what a break looks like. React ✅ to a break "
            "when you've moved. `/stretch help` shows everything."
        ),
        buttons=(Button(_(BREAK_NOW), "now"),),
    )


class OnboardingService:
    """Decides whether a hello is due (once per channel, once per installed workspace)."""

    def __init__(
        self, storage: Storage, tenancy: Tenancy, *, clock: Clock, remember: int = 10_000
    ) -> None:
        self.storage = storage
        self.tenancy = tenancy
        self.clock = clock
        # Channels this process greeted or found greeted lately (Slack redelivers an event
        # within minutes): a duplicate costs no query. The database stays the judge across
        # replicas and after `REMEMBER_FOR`; this only skips asking it again meanwhile.
        self._greeted: OrderedDict[ChannelKey, datetime] = OrderedDict()
        self._remember = remember

    async def claim_channel(self, channel: ChannelKey) -> bool:
        """True (and never again) when the bot should say hello in `channel`: it has not said
        it there before and the channel has no schedule yet (someone scheduling it made the
        bot join, and already knows what it does)."""
        noted = self._greeted.get(channel)
        if noted is not None and self.clock() - noted < REMEMBER_FOR:
            return False
        self._note(channel)  # before asking: a duplicate arriving meanwhile waits for nothing
        try:
            state = await self.storage.channels.get(channel)
            if state is not None and state.spec is not None:
                return False
            return await self._claim(channel.platform, channel.team_id, channel.channel_id)
        except BaseException:
            self._greeted.pop(channel, None)  # undecided: the next delivery asks again
            raise

    async def claim_workspace(self, *, platform: str, team_id: str) -> bool:
        """True (and never again) when the installer of the workspace should get a hello."""
        return await self._claim(platform, team_id, WORKSPACE_SUBJECT)

    async def release_channel(self, channel: ChannelKey) -> None:
        """The hello could not be posted: a later join may try again."""
        self._greeted.pop(channel, None)
        await self._release(channel.platform, channel.team_id, channel.channel_id)

    async def release_workspace(self, *, platform: str, team_id: str) -> None:
        """The installer's hello could not be sent: a later install may try again."""
        await self._release(platform, team_id, WORKSPACE_SUBJECT)

    async def _release(self, platform: str, team_id: str, subject: str) -> None:
        await self.tenancy.cooldowns.release(
            platform=platform, team_id=team_id, action=HELLO_ACTION, subject=subject
        )

    def _note(self, channel: ChannelKey) -> None:
        self._greeted.pop(channel, None)
        self._greeted[channel] = self.clock()
        while len(self._greeted) > self._remember:
            self._greeted.popitem(last=False)

    async def _claim(self, platform: str, team_id: str, subject: str) -> bool:
        running = await self.tenancy.cooldowns.take(
            platform=platform,
            team_id=team_id,
            action=HELLO_ACTION,
            subject=subject,
            now=self.clock(),
            period_seconds=FOREVER.total_seconds(),
        )
        return running is None
