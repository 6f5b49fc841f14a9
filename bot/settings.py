"""The settings form as a use case: the form a channel opens with, reading a submission, and
saving it by running the same /stretch commands the text grammar runs (same checks, same
`admins-only` rule, same public confirmations), one per changed part, in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.base import Call, CommandContext, Reply
from bot.commands.runner import ADMINS_ONLY_REFUSAL
from bot.i18n import _
from bot.ports import ChannelState
from bot.schedules import canonical_timezone
from bot.settings_form import (
    FORM_PARTS,
    FormDefaults,
    FormPart,
    SettingsForm,
    Submission,
    Value,
    initial_values,
    read_submission,
)

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class SaveOutcome:
    """What saving a submission did: the answers of the commands it ran, in order."""

    replies: tuple[Reply, ...] = ()
    ran: int = 0  # commands run (parts that changed)

    @property
    def public(self) -> Reply | None:
        """The confirmations for the channel, as one message (None: none)."""
        texts = [reply.text for reply in self.replies if reply.public]
        return Reply("\n".join(texts), public=True) if texts else None

    @property
    def private(self) -> Reply | None:
        """What only the person should read (a refusal, a problem), as one message."""
        texts = [reply.text for reply in self.replies if not reply.public]
        if not texts and not self.ran:
            return Reply(_("Nothing changed: the form showed the settings as they are."))
        return Reply("\n".join(texts)) if texts else None


class SettingsService:
    """Opens, reads and saves the channel settings form for every platform."""

    def __init__(self, services: Services, parts: tuple[FormPart, ...] = FORM_PARTS) -> None:
        self.services = services
        self.parts = parts

    async def form(self, call: Call) -> SettingsForm:
        """The form for the call's channel, filled in with its settings as they are; a channel
        without a schedule starts from the person's timezone."""
        spec = call.channel.spec
        tz = spec.tz if spec is not None else await self._person_tz(call)
        values = initial_values(self.parts, call.channel, FormDefaults(tz=tz))
        return SettingsForm(channel=call.key, values=values, parts=self.parts)

    async def _person_tz(self, call: Call) -> str:
        tz = await call.chat.user_timezone(call.key.team_id, call.ctx.user_id)
        return (canonical_timezone(tz) if tz else None) or self.services.default_tz

    def read(self, values: Mapping[str, Value]) -> Submission:
        """Submitted values as command texts, or the mistakes next to their inputs (no I/O)."""
        return read_submission(self.parts, values, self.services.commands.registry)

    async def refusal(self, ctx: CommandContext) -> Reply | None:
        """Why the person may not change the channel's settings (`admins-only` is on and they
        are no admin), or None when they may."""
        workspace = await self.services.tenancy.workspaces.get(
            platform=ctx.channel.platform, team_id=ctx.channel.team_id
        )
        if workspace is None or not workspace.admins_only:
            return None
        call = Call(
            ctx, workspace, ChannelState(key=ctx.channel), self.services.clock(), self.services
        )
        return await call.unless_admin(_(ADMINS_ONLY_REFUSAL))

    async def save(self, ctx: CommandContext, submission: Submission) -> SaveOutcome:
        """Run the submission's commands as the person typed them, skipping parts that match
        the channel's settings already; stops at the first answer that is not a public
        confirmation (a refusal, a channel the bot cannot reach, the rate limit)."""
        commands = self.services.commands
        state = await self.services.storage.channels.get(ctx.channel) or ChannelState(
            key=ctx.channel
        )
        replies: list[Reply] = []
        ran = 0
        for part, text in submission.commands:
            if part.current(state) == text:
                continue
            checked = commands.check(ctx, text)  # the person's rate limit; parsed already
            if isinstance(checked, Reply):
                replies.append(checked)
                break
            reply = await commands.execute(ctx, checked)
            ran += 1
            if reply is not None:
                replies.append(reply)
                if not reply.public:
                    break
        return SaveOutcome(replies=tuple(replies), ran=ran)
