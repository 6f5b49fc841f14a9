"""Conversation references and display names: how to reach a channel, what to call people.

Teams lets a bot post into a conversation on its own (a scheduled nudge) only with a conversation
reference captured from an activity it received there (the install, a command). Keeping the
reference in our database (`conversation_refs`, migration 0002) lets a restarted bot or any other
replica post. Display names (`people.display_name`) come from the same activities: Teams sends a
person's name with what they do and has no cheap lookup by id, so leaderboards read them here.

Like the other repositories, every method is one short transaction; races between replicas are
settled by the database (conditional upserts), never by retry loops.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import ChannelKey, StoredReference
from storage.db import Clock, Database, channel_pk, is_channel, utc_now
from storage.models import BreakRow, ChannelRow, ConversationRefRow, NudgeRow, PersonRow

NAME_LOOKUP_CHUNK = 500  # person ids per IN (...) list
MAX_NAME_LENGTH = 255  # people.display_name is VARCHAR(255)


class SqlConversationRepository:
    """Conversation references (`conversation_refs`) and display names (`people`) on SQL.

    Args:
        engine: from `storage.engine.create_engine`, schema migrated.
        clock: source of "now" for `updated_at` columns.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._db = Database.shared(engine, clock)

    # ---- conversation references ------------------------------------------------------------

    async def remember(self, *, channel: ChannelKey, service_url: str, reference: str) -> bool:
        """Store or refresh the channel's reference and mark it active.

        Returns:
            True when the reference is new or was inactive (the bot just arrived), False when an
            active one was only refreshed. Exactly one of several concurrent callers gets True.
        """
        now = self._db.clock()
        values = {"service_url": service_url, "reference": reference, "updated_at": now}
        async with self._db.write() as session:
            channel_pk = await self._db.ensure_channel(session, channel)
            refreshed = (
                await session.execute(
                    update(ConversationRefRow)
                    .where(ConversationRefRow.channel_pk == channel_pk, ConversationRefRow.active)
                    .values(values)
                    .returning(ConversationRefRow.channel_pk)
                )
            ).scalar_one_or_none()
            if refreshed is not None:
                await session.commit()
                return False
            # Insert, or reactivate an inactive row. A concurrent caller that activated the row
            # first makes the WHERE false here (Postgres re-checks it after the row lock), so
            # nothing comes back and only that caller reports the arrival.
            arrived = (
                await session.execute(
                    self._db.insert(ConversationRefRow)
                    .values(channel_pk=channel_pk, active=True, **values)
                    .on_conflict_do_update(
                        index_elements=["channel_pk"],
                        set_={**values, "active": True},
                        where=ConversationRefRow.active == false(),
                    )
                    .returning(ConversationRefRow.channel_pk)
                )
            ).scalar_one_or_none()
            await session.commit()
        return arrived is not None

    async def find(self, channel: ChannelKey) -> StoredReference | None:
        """The channel's reference, active or not; None if the bot never stored one."""
        query = (
            select(
                ConversationRefRow.service_url,
                ConversationRefRow.reference,
                ConversationRefRow.active,
            )
            .join(ChannelRow, ChannelRow.id == ConversationRefRow.channel_pk)
            .where(is_channel(channel))
        )
        async with self._db.read() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        service_url, reference, active = row
        return StoredReference(channel, service_url, reference, bool(active))

    async def deactivate(self, channel: ChannelKey) -> bool:
        """Mark the channel's reference inactive (the bot can no longer post there).

        Returns:
            True if an active reference was deactivated by this call.
        """
        statement = (
            update(ConversationRefRow)
            .where(
                ConversationRefRow.channel_pk == channel_pk(channel).scalar_subquery(),
                ConversationRefRow.active,
            )
            .values(active=False, updated_at=self._db.clock())
            .returning(ConversationRefRow.channel_pk)
        )
        async with self._db.write() as session:
            changed = (await session.execute(statement)).scalar_one_or_none()
            await session.commit()
        return changed is not None

    async def deactivate_team(self, *, platform: str, team_id: str) -> list[ChannelKey]:
        """Mark every reference in a workspace inactive (the app was removed from the team).

        Returns:
            Every channel the bot knows in that workspace, whatever its reference's state, so
            the caller can stop all their schedules.
        """
        in_team = select(ChannelRow.id).where(
            ChannelRow.platform == platform, ChannelRow.team_id == team_id
        )
        async with self._db.write() as session:
            await session.execute(
                update(ConversationRefRow)
                .where(ConversationRefRow.channel_pk.in_(in_team), ConversationRefRow.active)
                .values(active=False, updated_at=self._db.clock())
            )
            rows = await session.execute(
                select(ChannelRow.channel_id)
                .where(ChannelRow.platform == platform, ChannelRow.team_id == team_id)
                .order_by(ChannelRow.id)
            )
            keys = [ChannelKey(platform, team_id, channel_id) for (channel_id,) in rows]
            await session.commit()
        return keys

    async def reactivate_team(self, *, platform: str, team_id: str) -> int:
        """Mark every reference in a workspace active again (the app is back in the team).

        Returns:
            How many references were reactivated.
        """
        in_team = select(ChannelRow.id).where(
            ChannelRow.platform == platform, ChannelRow.team_id == team_id
        )
        statement = (
            update(ConversationRefRow)
            .where(
                ConversationRefRow.channel_pk.in_(in_team),
                ConversationRefRow.active == false(),
            )
            .values(active=True, updated_at=self._db.clock())
            .returning(ConversationRefRow.channel_pk)
        )
        async with self._db.write() as session:
            count = len((await session.execute(statement)).all())
            await session.commit()
        return count

    # ---- people -------------------------------------------------------------------------------

    async def set_display_name(
        self, *, platform: str, team_id: str, person_id: str, name: str
    ) -> None:
        """Record the name a person goes by in a workspace (their other choices are kept).

        Nothing changes for someone who opted out: the bot keeps no more about them.
        """
        name = name.strip()[:MAX_NAME_LENGTH]
        if not name:
            return
        now = self._db.clock()
        statement = (
            self._db.insert(PersonRow)
            .values(
                platform=platform,
                team_id=team_id,
                person_id=person_id,
                display_name=name,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["platform", "team_id", "person_id"],
                set_={"display_name": name, "updated_at": now},
                where=PersonRow.opted_out == false(),
            )
        )
        async with self._db.write() as session:
            await session.execute(statement)
            await session.commit()

    async def display_names(
        self, *, platform: str, team_id: str, person_ids: Sequence[str]
    ) -> dict[str, str]:
        """Known display names of these people in the workspace (unknown ones are left out)."""
        wanted = list(dict.fromkeys(person_ids))
        names: dict[str, str] = {}
        async with self._db.read() as session:
            for start in range(0, len(wanted), NAME_LOOKUP_CHUNK):
                chunk = wanted[start : start + NAME_LOOKUP_CHUNK]
                rows = await session.execute(
                    select(PersonRow.person_id, PersonRow.display_name).where(
                        PersonRow.platform == platform,
                        PersonRow.team_id == team_id,
                        PersonRow.person_id.in_(chunk),
                        PersonRow.display_name.is_not(None),
                    )
                )
                names.update({person: name for person, name in rows if name})
        return names

    async def people_on_nudge(self, *, channel: ChannelKey, message_id: str) -> list[str]:
        """People with a break on the nudge posted as `message_id`, first mover first."""
        query = (
            select(BreakRow.person_id)
            .join(NudgeRow, NudgeRow.id == BreakRow.nudge_id)
            .where(
                NudgeRow.channel_pk == channel_pk(channel).scalar_subquery(),
                NudgeRow.message_id == message_id,
            )
            .order_by(BreakRow.logged_at, BreakRow.id)
        )
        async with self._db.read() as session:
            return list(dict.fromkeys(await session.scalars(query)))
