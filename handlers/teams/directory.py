"""What the Teams adapter remembers: conversation references, display names, timezones.

References and names are stored (`storage.conversations`), so every replica and every restart can
post and name people. Timezones stay in memory: each command activity carries its sender's
timezone, and `set_schedule` asks for it while handling that very activity.

A reaction carries only the reactor's ids, no name: a person who only ever reacts is looked up
once through the Bot Connector (`GET v3/conversations/{id}/members/{memberId}`, the turn's own
connector client) and their name stored like any other; a lookup that fails is not repeated
for `LOOKUP_RETRY_SECONDS`, and never holds up more than `LOOKUP_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from microsoft_agents.activity import ConversationReference
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.app.proactive import Conversation
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.i18n import supported_locale
from bot.ports import ChannelKey, ConversationStore, StoredReference
from handlers.teams import activities

logger = logging.getLogger("stretchbot.teams")

LOOKUP_SECONDS = 2.0  # a member lookup never holds a reaction up longer than this
LOOKUP_RETRY_SECONDS = 600.0  # after a failed lookup, the person is asked for again this late

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A small least-recently-used map, so memory stays flat however many people write."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class TeamsDirectory:
    """Conversation references, names and timezones learnt from incoming activities."""

    def __init__(
        self,
        conversations: ConversationStore,
        *,
        cache_size: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.conversations = conversations
        self._names: BoundedCache[tuple[str, str], str] = BoundedCache(cache_size)
        self._timezones: BoundedCache[str, str] = BoundedCache(cache_size)
        # (workspace, person) -> when a lookup through the connector last failed
        self._failed_lookups: BoundedCache[tuple[str, str], float] = BoundedCache(cache_size)
        self._monotonic = monotonic
        self.lookups = 0  # connector member lookups made (tests and benchmarks read it)
        self._locales: BoundedCache[str, str] = BoundedCache(cache_size)

    async def observe(self, context: TurnContext) -> None:
        """Note the sender's display name (stored when new or changed) and timezone."""
        activity = context.activity
        sender = activity.from_property
        if activities.is_bot(sender, activity):
            return
        person = activities.person_id(sender)
        workspace = activities.workspace_id(activity)
        if person is None or workspace is None:
            return
        timezone = activities.client_timezone(activity)
        if timezone:
            self._timezones.put(person, timezone)
        locale = supported_locale(activity.locale) if isinstance(activity.locale, str) else None
        if locale:
            self._locales.put(person, locale)
        name = activities.display_name(sender)
        if name and self._names.get((workspace, person)) != name:
            await self.conversations.set_display_name(
                platform=activities.PLATFORM, team_id=workspace, person_id=person, name=name
            )
            self._names.put((workspace, person), name)

    async def name_unnamed(self, context: TurnContext) -> None:
        """Make sure the sender of an activity without a name (a reaction) has a stored
        name: from this process's cache, the database, or once from the Bot Connector.
        Never raises: a person the connector cannot name stays unnamed for now."""
        activity = context.activity
        sender = activity.from_property
        if activities.is_bot(sender, activity) or activities.display_name(sender):
            return
        person = activities.person_id(sender)
        workspace = activities.workspace_id(activity)
        member_id = sender.id if sender is not None else None
        conversation = (
            activities.base_conversation_id(activity.conversation.id)
            if activity.conversation is not None and activity.conversation.id
            else None
        )
        if person is None or workspace is None or not member_id or conversation is None:
            return
        key = (workspace, person)
        if self._names.get(key) is not None:
            return
        failed_at = self._failed_lookups.get(key)
        if failed_at is not None and self._monotonic() - failed_at < LOOKUP_RETRY_SECONDS:
            return
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                stored = await self.names(workspace, [person])
                name = stored.get(person)
                if name is None:
                    name = await self._look_up(context, conversation, member_id)
                    if name is not None:
                        await self.conversations.set_display_name(
                            platform=activities.PLATFORM,
                            team_id=workspace,
                            person_id=person,
                            name=name,
                        )
        except Exception as exc:  # a name is a nicety; the break must be logged regardless
            logger.info("teams.member_lookup_failed team=%s: %s", workspace, type(exc).__name__)
            name = None
        if name is None:
            self._failed_lookups.put(key, self._monotonic())
            return
        self._names.put(key, name)

    async def _look_up(self, context: TurnContext, conversation: str, member_id: str) -> str | None:
        # The connector client the adapter made for this turn (the activity's serviceUrl).
        found: object = context.services.get(ConnectorClientBase)
        if found is None:
            found = context.turn_state.get("ConnectorClient")
        if not isinstance(found, ConnectorClientBase):
            return None
        client = found
        self.lookups += 1
        member = await client.conversations.get_conversation_member(conversation, member_id)
        return activities.display_name(member)

    def timezone(self, person_id: str) -> str | None:
        return self._timezones.get(person_id)

    def locale(self, person_id: str) -> str | None:
        """The catalog locale of the person's last activity (Teams sends one with each)."""
        return self._locales.get(person_id)

    async def remember(self, context: TurnContext, channel: ChannelKey) -> bool:
        """Store how to post into `channel` later (from this turn's claims and conversation).

        Returns:
            True when the bot just arrived there (new or reactivated reference).
        """
        conversation = Conversation.from_turn_context(context)
        reference: ConversationReference = conversation.conversation_reference
        if reference.conversation is not None:
            # Post top-level into the channel, not into the thread this activity came from.
            reference.conversation = reference.conversation.model_copy(
                update={"id": channel.channel_id}
            )
        reference.activity_id = None
        reference.user = None  # the reference is the channel's, not the sender's
        return await self.conversations.remember(
            channel=channel,
            service_url=reference.service_url or "",
            reference=json.dumps(conversation.store_item_to_json(), separators=(",", ":")),
        )

    async def reference(self, channel: ChannelKey) -> StoredReference | None:
        return await self.conversations.find(channel)

    async def forget(self, channel: ChannelKey) -> None:
        """The bot can no longer post in `channel`."""
        if await self.conversations.deactivate(channel):
            logger.info(
                "teams.reference_inactive team=%s channel=%s", channel.team_id, channel.channel_id
            )

    async def forget_workspace(self, workspace_id: str) -> list[ChannelKey]:
        """The app left a team or chat: every channel of it, references made inactive."""
        return await self.conversations.deactivate_team(
            platform=activities.PLATFORM, team_id=workspace_id
        )

    async def rejoin_workspace(self, workspace_id: str) -> int:
        """The app is back in a team or chat: its channels' references work again."""
        return await self.conversations.reactivate_team(
            platform=activities.PLATFORM, team_id=workspace_id
        )

    async def names(self, workspace_id: str, person_ids: Sequence[str]) -> dict[str, str]:
        return await self.conversations.display_names(
            platform=activities.PLATFORM, team_id=workspace_id, person_ids=person_ids
        )

    async def movers(self, channel: ChannelKey, message_id: str) -> tuple[list[str], int]:
        """Names of the people who moved on a nudge (first first) and how many are unnamed."""
        people = await self.conversations.people_on_nudge(channel=channel, message_id=message_id)
        names = await self.names(channel.team_id, people)
        named = [names[person] for person in people if person in names]
        return named, len(people) - len(named)
