"""What a /stretch command is made of: its words and help line (`Word`), the parsed command that
runs itself (`Command`), who typed it where (`CommandContext`), what it sees (`Call`) and what
it answers (`Reply`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from bot.grammar import Args
from bot.i18n import _
from bot.ports import ChannelKey, ChannelState, Chat
from bot.workspaces import KnowsAdmins, Workspace

if TYPE_CHECKING:
    from bot.home import HomeSummary
    from bot.services import Services
    from bot.settings_form import SettingsForm


@dataclass(frozen=True)
class CommandContext:
    """Who typed a command where."""

    channel: ChannelKey
    user_id: str
    enterprise_id: str | None = None  # Slack Enterprise Grid organization, when there is one
    # A one-to-one chat with the bot (Slack DM, Teams personal chat), not a team's channel:
    # `stats` there covers every channel of the person.
    direct: bool = False


@dataclass(frozen=True)
class Button:
    """A button under a reply: pressing it runs `/stretch <command>` as the person who
    pressed it, in the reply's channel (a confirmation, a shortcut to the next step)."""

    label: str
    command: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Reply:
    """What to answer the person who typed a command."""

    text: str
    public: bool = False  # visible to the channel (schedule changes) or only to them
    # About the person alone (their stats): Teams sends it to their personal chat with the bot.
    personal: bool = False
    buttons: tuple[Button, ...] = ()
    # Show the person the channel's settings form (a Slack modal, a Teams card) instead of the
    # text; a platform that cannot open one shows the text and buttons.
    form: SettingsForm | None = None
    # The person's figures across their channels: a platform may show them as a card.
    home: HomeSummary | None = None
    # Show the person the form that adds an exercise to the workspace (a Slack modal); a
    # platform that cannot open one shows the text.
    exercise_form: bool = False


class Command(Protocol):
    """A parsed /stretch command. Its flags are what every platform reads to decide how to
    answer; `run` does the work."""

    @property
    def read_only(self) -> bool:
        """It only answers the person and changes nothing (Slack answers it in the ack)."""
        ...

    @property
    def changes_schedule(self) -> bool:
        """It changes the channel's schedule: with `admins-only` on, admins and owners only."""
        ...

    @property
    def personal(self) -> bool:
        """Its answer is about the person alone (Teams: to their personal chat)."""
        ...

    @property
    def needs_channel(self) -> bool:
        """It acts on a channel (its schedule, its board): a direct message with the bot has
        none to act on."""
        ...

    async def run(self, call: Call) -> Reply | None:
        """Do the work; None when the answer was posted in the channel itself."""
        ...


class CommandBase:
    """Defaults for the flags: a command that changes something, not the schedule, in public,
    in a channel."""

    read_only = False
    changes_schedule = False
    personal = False
    needs_channel = True


Parse = Callable[[Args], Command]


@dataclass(frozen=True)
class Word:
    """A registry entry: the words that start a command, how its arguments parse, its help."""

    names: tuple[str, ...]  # the first is the canonical word; the rest are aliases
    usage: str  # the usage line, e.g. "/stretch pause [2h|until monday]"
    help: str  # its line in `/stretch help` (marked for translation with N_)
    parse: Parse  # raises bot.grammar.Invalid on a user mistake
    summary: str = ""  # how it shows in the one-line usage, e.g. "every 45m ..."; default: name
    # For a first word no command knows: a hint when it looks meant for this command (`45m`
    # for `every 45m`), else None.
    guess: Callable[[tuple[str, ...]], str | None] | None = None

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass
class Call:
    """Everything a command's `run` works with: who and where, the workspace and the channel
    (read once for the command), the clock reading and the services."""

    ctx: CommandContext
    workspace: Workspace
    channel: ChannelState  # the stored state, or a fresh one for a channel never stored
    now: datetime
    services: Services
    person_locale: str = "en"  # the locale of the person who typed it (bot.languages)

    @property
    def key(self) -> ChannelKey:
        return self.ctx.channel

    @property
    def chat(self) -> Chat:
        return self.services.chats[self.key.platform]

    @property
    def tz(self) -> str:
        return self.channel.tz(self.services.default_tz)

    async def who(self) -> str:
        """How public replies name the person: a mention, unless they opted out."""
        if await self.services.breaks.is_opted_out(self.key, self.ctx.user_id):
            return _("Someone")
        return f"<@{self.ctx.user_id}>"

    async def addressed(self, text: str) -> str:
        """`text` addressed to the person in public (no mention if they opted out)."""
        if await self.services.breaks.is_opted_out(self.key, self.ctx.user_id):
            return text[:1].upper() + text[1:]
        return f"<@{self.ctx.user_id}>: {text}"

    async def take_cooldown(self, action: str) -> datetime | None:
        """Start the channel's cooldown for `action` (`now`, `leaderboard`) unless one runs,
        across every replica: None when taken, else when the running one ends."""
        seconds = self.services.now_cooldown.total_seconds()
        if seconds <= 0:
            return None
        return await self.services.tenancy.cooldowns.take(
            platform=self.key.platform,
            team_id=self.key.team_id,
            action=action,
            subject=self.key.channel_id,
            now=self.now,
            period_seconds=seconds,
        )

    async def release_cooldown(self, action: str) -> None:
        """End the cooldown early: what it guarded did not happen."""
        if self.services.now_cooldown.total_seconds() > 0:
            await self.services.tenancy.cooldowns.release(
                platform=self.key.platform,
                team_id=self.key.team_id,
                action=action,
                subject=self.key.channel_id,
            )

    async def unless_admin(self, refusal: str) -> Reply | None:
        """None when the person is a workspace admin or owner, else a friendly refusal."""
        chat = self.chat
        admin = (
            await chat.is_workspace_admin(self.key.team_id, self.ctx.user_id)
            if isinstance(chat, KnowsAdmins)
            else False
        )
        if admin:
            return None
        if admin is None:
            return Reply(_("I couldn't check your workspace role just now; try again in a minute."))
        self.services.log("command.refused", self.key, reason="admins_only", by=self.ctx.user_id)
        return Reply(refusal)
