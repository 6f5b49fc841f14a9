"""Events API listeners: ✅ reactions log and undo breaks; archived channels stop."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.ports import ChannelKey
from bot.services import CHECK_MARKS, StretchService


def check_mark(reaction: str) -> str | None:
    """The base name of a ✅-style reaction (skin tones dropped), or None for other emoji."""
    name = reaction.split("::", 1)[0]
    return name if name in CHECK_MARKS else None


def register(app: AsyncApp, services: StretchService) -> None:
    async def on_reaction(event: dict[str, Any], context: AsyncBoltContext, added: bool) -> None:
        item = event.get("item") or {}
        mark = check_mark(str(event.get("reaction", "")))
        user = event.get("user")
        if item.get("type") != "message" or mark is None or not user:
            return
        if user == context.bot_user_id:  # the bot's own reactions never count
            return
        channel = ChannelKey("slack", str(context.team_id or ""), str(item.get("channel", "")))
        change = services.log_break if added else services.undo_break
        await change(
            channel=channel,
            message_id=str(item.get("ts", "")),
            person_id=str(user),
            mark=f"reaction:{mark}",
        )

    @app.event("reaction_added")
    async def reaction_added(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await on_reaction(event, context, added=True)

    @app.event("reaction_removed")
    async def reaction_removed(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await on_reaction(event, context, added=False)

    async def on_gone(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = event.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else channel
        if channel_id:
            key = ChannelKey("slack", str(context.team_id or ""), str(channel_id))
            await services.channel_gone(key, reason=str(event.get("type")))

    for name in ("channel_archive", "channel_deleted", "group_archive", "group_deleted"):
        app.event(name)(on_gone)
