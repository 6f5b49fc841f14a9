"""Events API listeners: ✅ reactions log and undo breaks; archived channels stop; an uninstall
deletes the workspace's tokens and stops its schedules at once."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.breaks import CHECK_MARKS
from bot.ports import ChannelKey
from bot.services import Services
from handlers.slack import fields as ids
from handlers.slack.tokens import BotTokens


def check_mark(reaction: str) -> str | None:
    """The base name of a ✅-style reaction (skin tones dropped), or None for other emoji."""
    name = reaction.split("::", 1)[0]
    return name if name in CHECK_MARKS else None


def team_of(body: dict[str, Any], context: AsyncBoltContext) -> str:
    """The workspace an event happened in. An org-wide install's authorization names no team;
    then the envelope's `team_id` is the workspace."""
    return str(context.team_id or body.get("team_id") or "")


def register(app: AsyncApp, services: Services, *, tokens: BotTokens | None = None) -> None:
    async def on_reaction(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, added: bool
    ) -> None:
        item = event.get("item")
        reaction = event.get("reaction")
        mark = check_mark(reaction) if isinstance(reaction, str) else None
        if not isinstance(item, dict) or item.get("type") != "message" or mark is None:
            return
        user = ids.slack_id(event.get("user"), ids.USER)
        team = ids.slack_id(team_of(body, context), ids.TEAM)
        channel_id = ids.slack_id(item.get("channel"), ids.CONVERSATION)
        ts = ids.message_ts(item.get("ts"))
        if user is None or team is None or channel_id is None or ts is None:
            return  # not a person reacting to a message we could have posted
        if user == context.bot_user_id:  # the bot's own reactions never count
            return
        # Acked already and nobody to answer: queue the mark for the break writer, which
        # writes it with others in one transaction (and logs it if it cannot).
        await services.breaks.queue_mark(
            channel=ChannelKey("slack", team, channel_id),
            message_id=ts,
            person_id=user,
            mark=f"reaction:{mark}",
            added=added,
        )

    @app.event("reaction_added")
    async def reaction_added(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await on_reaction(event, body, context, added=True)

    @app.event("reaction_removed")
    async def reaction_removed(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await on_reaction(event, body, context, added=False)

    async def on_gone(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        channel = event.get("channel")
        channel_id = ids.slack_id(
            channel.get("id") if isinstance(channel, dict) else channel, ids.CONVERSATION
        )
        team = ids.slack_id(team_of(body, context), ids.TEAM)
        if channel_id and team:
            key = ChannelKey("slack", team, channel_id)
            await services.installs.channel_gone(key, reason=str(event.get("type"))[:32])

    async def uninstalled(
        body: dict[str, Any], context: AsyncBoltContext, *, bot: bool, user_ids: tuple[str, ...]
    ) -> None:
        # An org-wide install is keyed by its enterprise alone (no team).
        team_id = None if context.is_enterprise_install else (team_of(body, context) or None)
        if tokens is not None:
            await tokens.delete(
                enterprise_id=context.enterprise_id, team_id=team_id, bot=bot, user_ids=user_ids
            )
        if bot:
            await services.installs.workspace_uninstalled(
                platform="slack", team_id=team_id, enterprise_id=context.enterprise_id
            )

    @app.event("app_uninstalled")
    async def app_uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await uninstalled(body, context, bot=True, user_ids=())

    @app.event("tokens_revoked")
    async def tokens_revoked(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        revoked = event.get("tokens")
        revoked = revoked if isinstance(revoked, dict) else {}
        bots, users = revoked.get("bot"), revoked.get("oauth")
        user_ids = tuple(str(u) for u in users) if isinstance(users, list) else ()
        # Without its bot token the bot cannot work there: as good as uninstalled.
        await uninstalled(body, context, bot=bool(bots), user_ids=user_ids)

    for name in ("channel_archive", "channel_deleted", "group_archive", "group_deleted"):
        app.event(name)(on_gone)
