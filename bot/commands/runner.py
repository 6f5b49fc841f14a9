"""Running a /stretch command: the per-person rate limit, parsing through the registry, one read
of the workspace and channel, the `admins-only` rule, then the command itself."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.base import Call, Command, CommandContext, Reply
from bot.commands.registry import Registry
from bot.grammar import ParseError
from bot.i18n import N_, _, current_locale, use_locale
from bot.languages import KnowsLocales, channel_language
from bot.ports import ChannelState
from bot.replies import count_seconds
from bot.workspaces import Workspace

if TYPE_CHECKING:
    from bot.services import Services


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


ADMINS_ONLY_REFUSAL = N_(
    "Only workspace admins and owners can change the schedule here "
    "(`/stretch admins-only` is on). Ask one of them, or see `/stretch status`."
)


def parse_error_reply(error: ParseError) -> Reply:
    """The friendly answer to command text that did not parse."""
    hint = "\n" + _("Try: `{usage}`").format(usage=error.usage) if error.usage else ""
    return Reply(
        error.message + hint + "\n" + _("(`/stretch help` lists everything I understand.)")
    )


class CommandService:
    """Parses and runs /stretch commands for every platform."""

    def __init__(self, services: Services, registry: Registry, *, commands_per_minute: int) -> None:
        self.services = services
        self.registry = registry
        self.rate_limit = CommandRateLimit(commands_per_minute)

    async def run(self, ctx: CommandContext, text: str) -> Reply | None:
        """Parse and run the text of a /stretch command; errors come back as friendly replies."""
        command = self.check(ctx, text)
        if isinstance(command, Reply):
            return command
        return await self.execute(ctx, command)

    def check(self, ctx: CommandContext, text: str) -> Reply | Command:
        """The first half of `run`, without I/O: count the command against the person's rate
        limit and parse it. A Reply (the refusal or the parse error) is the answer; a command
        is for `execute`."""
        wait = self.rate_limit.hit(
            (ctx.channel.platform, ctx.channel.team_id, ctx.user_id), self.services.clock()
        )
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            return Reply(
                _(
                    "Easy there: that's {limit} /stretch commands in a minute. Try again in {wait}."
                ).format(limit=self.rate_limit.limit, wait=count_seconds(seconds))
            )
        command = self.registry.parse(text)
        if isinstance(command, ParseError):
            return parse_error_reply(command)
        return command

    async def execute(self, ctx: CommandContext, command: Command) -> Reply | None:
        """The second half of `run`: run a command `check` let through.

        One read gets the workspace and the channel; with `admins-only` on in the workspace,
        schedule changes are for its admins and owners."""
        workspace, state = await self._where(ctx)
        # The platform's edge set the person's locale; what the channel reads (schedule
        # changes, nudges, boards) is in the channel's language instead.
        person = await self._person_locale(ctx)
        call = Call(ctx, workspace, state, self.services.clock(), self.services, person)
        if workspace.admins_only and command.changes_schedule:
            refusal = await call.unless_admin(_(ADMINS_ONLY_REFUSAL))
            if refusal is not None:
                return refusal
        to_channel = not (command.read_only or command.personal or ctx.direct)
        with use_locale(channel_language(state, person) if to_channel else person):
            reply = await command.run(call)
        if reply is not None and command.personal and not reply.personal:
            reply = replace(reply, personal=True)
        return reply

    async def _person_locale(self, ctx: CommandContext) -> str:
        """The person's locale: the platform's (Slack asks `users.info` once an hour), else the
        one the platform's edge set for this request."""
        chat = self.services.chats.get(ctx.channel.platform)
        found = None
        if isinstance(chat, KnowsLocales):
            found = await chat.user_locale(ctx.channel.team_id, ctx.user_id)
        return found or current_locale()

    async def _where(self, ctx: CommandContext) -> tuple[Workspace, ChannelState]:
        """The command's workspace and channel: one query when the workspace is known,
        installed and its organization unchanged (every command but the first from a
        workspace); otherwise the workspace is recorded (or reinstalled) first, then the
        channel read again (a reinstall may just have restarted its schedule)."""
        key = ctx.channel
        found = await self.services.tenancy.workspaces.get_with_channel(key)
        if found is not None:
            workspace, state = found
            if workspace.installed and ctx.enterprise_id in (None, workspace.enterprise_id):
                return workspace, state or ChannelState(key=key)
        workspace = await self.services.installs.seen(
            platform=key.platform, team_id=key.team_id, enterprise_id=ctx.enterprise_id
        )
        return workspace, await self.services.storage.channels.get(key) or ChannelState(key=key)
