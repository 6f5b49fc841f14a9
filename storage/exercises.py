"""Custom exercises on SQL (`SqlExerciseRepository`): a workspace's own exercises, the built-ins
it turned off, the channels' packs and the Slack files of uploaded pictures; their purge and
export with the workspace."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.custom_exercises import MAX_CUSTOM, CustomExercise, WorkspaceExercises
from bot.workspaces import ExportTable
from storage.db import Database
from storage.exercise_models import (
    ChannelExercisePackRow,
    CustomExerciseRow,
    ExerciseSwitchRow,
    SlackPictureFileRow,
)

_COLUMNS = (
    "platform",
    "team_id",
    "key",
    "name",
    "how_to",
    "amount",
    "unit",
    "position",
    "image_url",
    "pack",
    "created_by",
)


def _exercise(row: Any) -> CustomExercise:
    """A `custom_exercises` row (ORM object or plain row with its columns) as the record."""
    return CustomExercise(
        key=row.key,
        name=row.name,
        how_to=row.how_to,
        amount=row.amount,
        unit="reps" if row.unit == "reps" else "seconds",
        position="standing" if row.position == "standing" else "seated",
        image_url=row.image_url,
        pack=row.pack,
        created_by=row.created_by,
    )


class SqlExerciseRepository:
    """`bot.custom_exercises.ExerciseRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, *, platform: str, team_id: str) -> WorkspaceExercises:
        found = await self.load_many([(platform, team_id)])
        return found.get((platform, team_id), WorkspaceExercises())

    async def load_many(
        self, teams: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], WorkspaceExercises]:
        """Three statements whatever the number of workspaces; workspaces that changed
        nothing are left out."""
        wanted = sorted(set(teams))
        if not wanted:
            return {}
        custom: dict[tuple[str, str], list[CustomExercise]] = {}
        off: dict[tuple[str, str], set[str]] = {}
        packs: dict[tuple[str, str], dict[str, str]] = {}
        async with self._db.read() as session:
            # Plain columns, not ORM objects: a scheduler pass may read thousands of rows.
            for row in await session.execute(
                select(*(getattr(CustomExerciseRow, name) for name in _COLUMNS))
                .where(_of(CustomExerciseRow, wanted))
                .order_by(CustomExerciseRow.id)
            ):
                custom.setdefault((row.platform, row.team_id), []).append(_exercise(row))
            for platform, team_id, key in await session.execute(
                select(
                    ExerciseSwitchRow.platform,
                    ExerciseSwitchRow.team_id,
                    ExerciseSwitchRow.exercise_key,
                ).where(_of(ExerciseSwitchRow, wanted))
            ):
                off.setdefault((platform, team_id), set()).add(key)
            for platform, team_id, channel_id, pack in await session.execute(
                select(
                    ChannelExercisePackRow.platform,
                    ChannelExercisePackRow.team_id,
                    ChannelExercisePackRow.channel_id,
                    ChannelExercisePackRow.pack,
                ).where(_of(ChannelExercisePackRow, wanted))
            ):
                packs.setdefault((platform, team_id), {})[channel_id] = pack
        return {
            team: WorkspaceExercises(
                custom=tuple(custom.get(team, ())),
                off=frozenset(off.get(team, ())),
                channel_packs=MappingProxyType(packs.get(team, {})),
            )
            for team in {*custom, *off, *packs}
        }

    async def add(self, *, platform: str, team_id: str, exercise: CustomExercise) -> bool:
        async with self._db.write() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(CustomExerciseRow)
                .where(CustomExerciseRow.platform == platform, CustomExerciseRow.team_id == team_id)
            )
            if (count or 0) >= MAX_CUSTOM:
                return False
            inserted = await session.execute(
                self._db.insert(CustomExerciseRow)
                .values(**self._values(platform, team_id, exercise))
                .on_conflict_do_nothing()
                .returning(CustomExerciseRow.id)
            )
            if inserted.scalar_one_or_none() is None:
                return False
            await session.commit()
        return True

    def _values(self, platform: str, team_id: str, exercise: CustomExercise) -> dict[str, object]:
        return {
            "platform": platform,
            "team_id": team_id,
            "key": exercise.key,
            "name": exercise.name,
            "name_folded": exercise.name.casefold()[:255],
            "how_to": exercise.how_to,
            "amount": exercise.amount,
            "unit": exercise.unit,
            "position": exercise.position,
            "image_url": exercise.image_url,
            "pack": exercise.pack,
            "created_by": exercise.created_by,
            "created_at": self._db.clock(),
        }

    async def switch_builtin(
        self, *, platform: str, team_id: str, key: str, on: bool, by: str
    ) -> bool:
        async with self._db.write() as session:
            if on:
                result = await session.execute(
                    delete(ExerciseSwitchRow)
                    .where(
                        ExerciseSwitchRow.platform == platform,
                        ExerciseSwitchRow.team_id == team_id,
                        ExerciseSwitchRow.exercise_key == key,
                    )
                    .returning(ExerciseSwitchRow.exercise_key)
                )
            else:
                result = await session.execute(
                    self._db.insert(ExerciseSwitchRow)
                    .values(
                        platform=platform,
                        team_id=team_id,
                        exercise_key=key,
                        updated_by=by,
                        updated_at=self._db.clock(),
                    )
                    .on_conflict_do_nothing()
                    .returning(ExerciseSwitchRow.exercise_key)
                )
            changed = result.scalar_one_or_none() is not None
            await session.commit()
        return changed

    async def use_pack(
        self, *, platform: str, team_id: str, channel_id: str, pack: str | None
    ) -> None:
        key = {"platform": platform, "team_id": team_id, "channel_id": channel_id}
        async with self._db.write() as session:
            if pack is None:
                await session.execute(
                    delete(ChannelExercisePackRow).where(
                        *(getattr(ChannelExercisePackRow, k) == v for k, v in key.items())
                    )
                )
            else:
                now = self._db.clock()
                await session.execute(
                    self._db.insert(ChannelExercisePackRow)
                    .values(**key, pack=pack, updated_at=now)
                    .on_conflict_do_update(
                        index_elements=list(key), set_={"pack": pack, "updated_at": now}
                    )
                )
            await session.commit()

    async def replace(
        self,
        *,
        platform: str,
        team_id: str,
        exercises: Sequence[CustomExercise],
        off: frozenset[str],
        by: str,
    ) -> None:
        async with self._db.write() as session:
            for model in (CustomExerciseRow, ExerciseSwitchRow):
                await session.execute(
                    delete(model).where(model.platform == platform, model.team_id == team_id)
                )
            if exercises:
                await session.execute(
                    self._db.insert(CustomExerciseRow),
                    [self._values(platform, team_id, e) for e in exercises],
                )
            now = self._db.clock()
            if off:
                await session.execute(
                    self._db.insert(ExerciseSwitchRow),
                    [
                        {
                            "platform": platform,
                            "team_id": team_id,
                            "exercise_key": key,
                            "updated_by": by,
                            "updated_at": now,
                        }
                        for key in sorted(off)
                    ],
                )
            await session.commit()

    # ---- Socket Mode pictures ---------------------------------------------------------------

    async def picture_file(self, *, team_id: str, picture: str, version: str) -> str | None:
        """The Slack file id this picture version was uploaded as in the workspace, or None."""
        async with self._db.read() as session:
            return await session.scalar(
                select(SlackPictureFileRow.file_id).where(
                    SlackPictureFileRow.team_id == team_id,
                    SlackPictureFileRow.picture == picture,
                    SlackPictureFileRow.version == version,
                )
            )

    async def remember_picture_file(
        self, *, team_id: str, picture: str, version: str, file_id: str
    ) -> str:
        """Keep the uploaded file's id; when another replica stored one first, that one wins
        and is returned (both files show the same picture)."""
        async with self._db.write() as session:
            await session.execute(
                self._db.insert(SlackPictureFileRow)
                .values(
                    team_id=team_id,
                    picture=picture,
                    version=version,
                    file_id=file_id,
                    uploaded_at=self._db.clock(),
                )
                .on_conflict_do_nothing()
            )
            stored = await session.scalar(
                select(SlackPictureFileRow.file_id).where(
                    SlackPictureFileRow.team_id == team_id,
                    SlackPictureFileRow.picture == picture,
                    SlackPictureFileRow.version == version,
                )
            )
            await session.commit()
        return stored or file_id

    async def forget_picture_file(self, *, team_id: str, file_id: str) -> None:
        """The file is gone from Slack (deleted by someone): upload it again next time."""
        async with self._db.write() as session:
            await session.execute(
                delete(SlackPictureFileRow).where(
                    SlackPictureFileRow.team_id == team_id, SlackPictureFileRow.file_id == file_id
                )
            )
            await session.commit()


def _of(
    model: type[CustomExerciseRow] | type[ExerciseSwitchRow] | type[ChannelExercisePackRow],
    teams: Sequence[tuple[str, str]],
) -> ColumnElement[bool]:
    """The rows of these workspaces."""
    if len(teams) == 1:
        platform, team_id = teams[0]
        return and_(model.platform == platform, model.team_id == team_id)
    return tuple_(model.platform, model.team_id).in_(list(teams))


async def purge_exercises(session: AsyncSession, *, platform: str, team_id: str) -> None:
    """Delete the workspace's exercises, switches, packs and picture files (in the purge's
    transaction)."""
    for model in (CustomExerciseRow, ExerciseSwitchRow, ChannelExercisePackRow):
        await session.execute(
            delete(model).where(model.platform == platform, model.team_id == team_id)
        )
    if platform == "slack":
        await session.execute(
            delete(SlackPictureFileRow).where(SlackPictureFileRow.team_id == team_id)
        )


async def export_exercises(session: AsyncSession, *, platform: str, team_id: str) -> ExportTable:
    """The workspace's own exercises and the built-ins it turned off, one row each."""
    table = ExportTable(
        "exercises",
        ("key", "name", "how_to", "dose", "position", "image_url", "pack", "state", "by"),
    )
    for row in await session.scalars(
        select(CustomExerciseRow)
        .where(CustomExerciseRow.platform == platform, CustomExerciseRow.team_id == team_id)
        .order_by(CustomExerciseRow.id)
    ):
        table.rows.append(
            (
                row.key,
                row.name,
                row.how_to,
                f"{row.amount} {row.unit}",
                row.position,
                row.image_url or "",
                row.pack or "",
                "custom",
                row.created_by,
            )
        )
    for key, by in await session.execute(
        select(ExerciseSwitchRow.exercise_key, ExerciseSwitchRow.updated_by)
        .where(ExerciseSwitchRow.platform == platform, ExerciseSwitchRow.team_id == team_id)
        .order_by(ExerciseSwitchRow.exercise_key)
    ):
        table.rows.append((key, "", "", "", "", "", "", "built-in, off", by))
    return table
