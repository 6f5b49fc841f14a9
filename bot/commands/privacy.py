"""`/stretch optout`, `/stretch optin` and `/stretch forget-me`: a person's choices about what the
bot stores and shows of them, for the whole workspace."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Button, Call, CommandBase, Reply, Word
from bot.grammar import Args, Invalid, nothing_after
from bot.i18n import N_, _, ngettext
from bot.ports import ChannelKey

OPTOUT_USAGE = "/stretch optout"
OPTIN_USAGE = "/stretch optin"
FORGET_USAGE = "/stretch forget-me"


@dataclass(frozen=True)
class OptOutCommand(CommandBase):
    """`/stretch optout`: no mentions, not on boards, breaks not stored from now on."""

    needs_channel = False

    async def run(self, call: Call) -> Reply:
        await _set_opted_out(call, True)
        return Reply(
            _(
                "You're opted out in this workspace: I won't mention you, you're off the "
                "leaderboards, and I don't store your breaks from now on. Breaks logged before "
                "stay until you type `/stretch forget-me`; `/stretch optin` brings you back."
            )
        )


@dataclass(frozen=True)
class OptInCommand(CommandBase):
    """`/stretch optin`: undo `optout`."""

    needs_channel = False

    async def run(self, call: Call) -> Reply:
        await _set_opted_out(call, False)
        return Reply(_("Welcome back! Your breaks count again and you're on the leaderboards."))


async def _set_opted_out(call: Call, opted_out: bool) -> None:
    changed = await call.services.tenancy.people.set_opted_out(
        platform=call.key.platform,
        team_id=call.key.team_id,
        person_id=call.ctx.user_id,
        opted_out=opted_out,
    )
    if changed:  # the recent nudges that name (or now may name) them show it
        call.services.who_moved.refresh_all(await _nudges_naming(call))
    call.services.log(
        "person.opted_out" if opted_out else "person.opted_in", call.key, by=call.ctx.user_id
    )


@dataclass(frozen=True)
class ForgetMeCommand(CommandBase):
    """`/stretch forget-me`: delete the person's breaks in this workspace, once they confirm
    (a button, or `/stretch forget-me confirm`)."""

    confirmed: bool = False

    needs_channel = False

    async def run(self, call: Call) -> Reply:
        if not self.confirmed:
            return Reply(
                _(
                    "This deletes every break you've logged in this workspace, for good: your "
                    "stats and streaks start from zero. Sure?"
                ),
                buttons=(Button(_("Delete my breaks"), "forget-me confirm", "danger"),),
            )
        naming = await _nudges_naming(call)
        deleted = await call.services.tenancy.people.forget(
            platform=call.key.platform, team_id=call.key.team_id, person_id=call.ctx.user_id
        )
        call.services.who_moved.refresh_all(naming)  # their name and break leave those lines
        call.services.log("person.forgotten", call.key, breaks=deleted)
        if not deleted:
            return Reply(_("I had no breaks stored for you in this workspace; nothing to delete."))
        return Reply(
            ngettext(
                "Done: I deleted your {count} break in this workspace. "
                "`/stretch optout` stops me storing new ones.",
                "Done: I deleted your {count} breaks in this workspace. "
                "`/stretch optout` stops me storing new ones.",
                deleted,
            ).format(count=deleted)
        )


def parse_optout(args: Args) -> OptOutCommand:
    nothing_after(args, "optout", OPTOUT_USAGE)
    return OptOutCommand()


def parse_optin(args: Args) -> OptInCommand:
    nothing_after(args, "optin", OPTIN_USAGE)
    return OptInCommand()


async def _nudges_naming(call: Call) -> list[tuple[ChannelKey, str]]:
    return await call.services.who_moved.nudges_naming(
        platform=call.key.platform,
        team_id=call.key.team_id,
        person_id=call.ctx.user_id,
        now=call.now,
    )


def parse_forget(args: Args) -> ForgetMeCommand:
    words = args.lowered
    if args.word == "forget":  # `forget me`
        if words[:1] != ("me",):
            raise Invalid(_("Say `forget-me` to delete your breaks here."), FORGET_USAGE)
        words = words[1:]
    if words == ("confirm",):
        return ForgetMeCommand(confirmed=True)
    nothing_after(Args(args.word, words, words), "forget-me", FORGET_USAGE)
    return ForgetMeCommand()


WORDS = [
    Word(
        names=("optout", "opt-out"),
        usage=OPTOUT_USAGE,
        help=N_(
            "`/stretch optout` / `/stretch optin`: leave or rejoin: while out, I don't mention "
            "you, show you on boards or store your breaks"
        ),
        parse=parse_optout,
    ),
    Word(names=("optin", "opt-in"), usage=OPTIN_USAGE, help="", parse=parse_optin),
    Word(
        names=("forget-me", "forgetme", "forget"),
        usage=FORGET_USAGE,
        help=N_("`/stretch forget-me`: delete your breaks in this workspace"),
        parse=parse_forget,
    ),
]
