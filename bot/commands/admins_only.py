"""`/stretch admins-only [on|off]`: show or change whether only workspace admins and owners may
change schedules (admins and owners switch it)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid
from bot.i18n import N_, _

USAGE = "/stretch admins-only on|off"


@dataclass(frozen=True)
class AdminsOnlyShowCommand(CommandBase):
    """`/stretch admins-only`: say who may change schedules here."""

    read_only = True
    needs_channel = False

    async def run(self, call: Call) -> Reply:
        return Reply(
            _(
                "Here, only workspace admins and owners can change a channel's schedule. "
                "Admins and owners switch this with `/stretch admins-only on|off`."
            )
            if call.workspace.admins_only
            else _(
                "Here, anyone can change a channel's schedule. Admins and owners switch "
                "this with `/stretch admins-only on|off`."
            )
        )


@dataclass(frozen=True)
class AdminsOnlyCommand(CommandBase):
    """`/stretch admins-only on|off`."""

    enabled: bool

    needs_channel = False

    async def run(self, call: Call) -> Reply:
        refusal = await call.unless_admin(
            _("Only workspace admins and owners can switch `/stretch admins-only`.")
        )
        if refusal is not None:
            return refusal
        await call.services.tenancy.workspaces.set_admins_only(
            platform=call.key.platform, team_id=call.key.team_id, enabled=self.enabled
        )
        call.services.log("workspace.admins_only", call.key, on=self.enabled, by=call.ctx.user_id)
        if self.enabled:
            return Reply(
                _(
                    "Done: from now on only workspace admins and owners can change schedules in "
                    "this workspace. Everyone can still use `/stretch now`, `status`, `stats` and "
                    "the leaderboards."
                )
            )
        return Reply(_("Done: anyone in a channel can change its schedule again."))


def parse(args: Args) -> AdminsOnlyCommand | AdminsOnlyShowCommand:
    tokens = args.lowered
    if args.word == "admins":  # `admins only on`
        if tokens[:1] != ("only",):
            raise Invalid(_("Say `admins-only on` or `admins-only off`."), USAGE)
        tokens = tokens[1:]
    if not tokens:
        return AdminsOnlyShowCommand()
    if tokens in (("on",), ("off",)):
        return AdminsOnlyCommand(enabled=tokens == ("on",))
    raise Invalid(_("Say `admins-only on` or `admins-only off`."), USAGE)


WORDS = [
    Word(
        names=("admins-only", "adminsonly", "admins"),
        usage=USAGE,
        help=N_(
            "`/stretch admins-only on|off`: only workspace admins and owners may change "
            "schedules (admins and owners decide)"
        ),
        parse=parse,
        summary="admins-only on|off",
    )
]
