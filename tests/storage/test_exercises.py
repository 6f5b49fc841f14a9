"""The storage contract of custom exercises: a workspace's own exercises, built-ins turned off,
channel packs, an import replacing everything at once, Socket Mode picture files, and purge and
export with the workspace. Each test runs on SQLite and Postgres."""

from __future__ import annotations

import asyncio

from bot.custom_exercises import MAX_CUSTOM, CustomExercise, WorkspaceExercises
from storage.db import Database
from storage.exercises import SqlExerciseRepository
from storage.retention import export_workspace, purge_workspace
from storage.sql import SqlStorage

TEAM = ("slack", "T0EX")
OTHER = ("slack", "T0OTHER")


def custom(name: str, key: str, *, pack: str | None = None) -> CustomExercise:
    return CustomExercise(
        key=key,
        name=name,
        how_to="Sit tall and draw your chin back.",
        amount=30,
        unit="seconds",
        position="seated",
        image_url="https://example.com/chin.png",
        pack=pack,
        created_by="U1",
    )


async def test_a_workspace_starts_with_no_changes(storage: SqlStorage) -> None:
    assert await storage.exercises.load(platform="slack", team_id="T0EX") == WorkspaceExercises()
    assert await storage.exercises.load_many([TEAM, OTHER]) == {}


async def test_added_exercises_round_trip_per_workspace(storage: SqlStorage) -> None:
    chin = custom("Chin tucks", "x-chin-tucks")
    assert await storage.exercises.add(platform="slack", team_id="T0EX", exercise=chin)
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert loaded.custom == (chin,)
    # Another workspace (and another platform with the same team id) sees nothing of it.
    assert (await storage.exercises.load(platform="slack", team_id="T0OTHER")).custom == ()
    assert (await storage.exercises.load(platform="teams", team_id="T0EX")).custom == ()


async def test_a_name_is_taken_in_any_case_and_nothing_is_stored_twice(
    storage: SqlStorage,
) -> None:
    assert await storage.exercises.add(
        platform="slack", team_id="T0EX", exercise=custom("Chin tucks", "x-chin-tucks")
    )
    assert not await storage.exercises.add(
        platform="slack", team_id="T0EX", exercise=custom("CHIN TUCKS", "x-chin-tucks-2")
    )
    assert not await storage.exercises.add(
        platform="slack", team_id="T0EX", exercise=custom("Other", "x-chin-tucks")
    )
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert [e.name for e in loaded.custom] == ["Chin tucks"]


async def test_two_people_adding_the_same_name_at_once_store_one(storage: SqlStorage) -> None:
    results = await asyncio.gather(
        *(
            storage.exercises.add(
                platform="slack", team_id="T0EX", exercise=custom("Chin tucks", f"x-c{n}")
            )
            for n in range(5)
        )
    )
    assert sorted(results) == [False] * 4 + [True]


async def test_at_most_max_custom_exercises(storage: SqlStorage) -> None:
    await storage.exercises.replace(
        platform="slack",
        team_id="T0EX",
        exercises=[custom(f"Move {n}", f"x-move-{n}") for n in range(MAX_CUSTOM)],
        off=frozenset(),
        by="import",
    )
    assert not await storage.exercises.add(
        platform="slack", team_id="T0EX", exercise=custom("One more", "x-one-more")
    )


async def test_builtins_switch_off_and_on(storage: SqlStorage) -> None:
    switch = storage.exercises.switch_builtin
    assert await switch(platform="slack", team_id="T0EX", key="lunges", on=False, by="U1")
    assert not await switch(platform="slack", team_id="T0EX", key="lunges", on=False, by="U1")
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert loaded.off == frozenset({"lunges"})
    assert await switch(platform="slack", team_id="T0EX", key="lunges", on=True, by="U1")
    assert not await switch(platform="slack", team_id="T0EX", key="lunges", on=True, by="U1")
    assert (await storage.exercises.load(platform="slack", team_id="T0EX")).off == frozenset()


async def test_channel_packs_set_change_and_clear(storage: SqlStorage) -> None:
    use = storage.exercises.use_pack
    await use(platform="slack", team_id="T0EX", channel_id="C1", pack="physio")
    await use(platform="slack", team_id="T0EX", channel_id="C1", pack="desk")
    await use(platform="slack", team_id="T0EX", channel_id="C2", pack="physio")
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert dict(loaded.channel_packs) == {"C1": "desk", "C2": "physio"}
    await use(platform="slack", team_id="T0EX", channel_id="C1", pack=None)
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert dict(loaded.channel_packs) == {"C2": "physio"}


async def test_load_many_reads_each_workspace_in_one_go(storage: SqlStorage) -> None:
    await storage.exercises.add(platform="slack", team_id="T0EX", exercise=custom("A", "x-a"))
    await storage.exercises.switch_builtin(
        platform="slack", team_id="T0OTHER", key="lunges", on=False, by="U1"
    )
    found = await storage.exercises.load_many([TEAM, OTHER, ("slack", "T0NONE")])
    assert set(found) == {TEAM, OTHER}
    assert [e.key for e in found[TEAM].custom] == ["x-a"]
    assert found[OTHER].off == frozenset({"lunges"}) and found[OTHER].custom == ()


async def test_replace_swaps_everything_at_once_and_keeps_packs(storage: SqlStorage) -> None:
    await storage.exercises.add(platform="slack", team_id="T0EX", exercise=custom("Old", "x-old"))
    await storage.exercises.switch_builtin(
        platform="slack", team_id="T0EX", key="lunges", on=False, by="U1"
    )
    await storage.exercises.use_pack(
        platform="slack", team_id="T0EX", channel_id="C1", pack="physio"
    )
    await storage.exercises.replace(
        platform="slack",
        team_id="T0EX",
        exercises=[custom("New", "x-new", pack="physio")],
        off=frozenset({"glute-bridges"}),
        by="import",
    )
    loaded = await storage.exercises.load(platform="slack", team_id="T0EX")
    assert [e.key for e in loaded.custom] == ["x-new"]
    assert loaded.off == frozenset({"glute-bridges"})
    assert dict(loaded.channel_packs) == {"C1": "physio"}


async def test_picture_files_are_remembered_once_per_workspace_and_version(
    storage: SqlStorage,
) -> None:
    repo = storage.exercises
    assert isinstance(repo, SqlExerciseRepository)
    assert await repo.picture_file(team_id="T0EX", picture="lunges", version="v1") is None
    first = await repo.remember_picture_file(
        team_id="T0EX", picture="lunges", version="v1", file_id="F1"
    )
    second = await repo.remember_picture_file(
        team_id="T0EX", picture="lunges", version="v1", file_id="F2"
    )
    assert (first, second) == ("F1", "F1")  # the first replica's upload wins
    assert await repo.picture_file(team_id="T0EX", picture="lunges", version="v1") == "F1"
    assert await repo.picture_file(team_id="T0EX", picture="lunges", version="v2") is None
    assert await repo.picture_file(team_id="T0OTHER", picture="lunges", version="v1") is None
    await repo.forget_picture_file(team_id="T0EX", file_id="F1")
    assert await repo.picture_file(team_id="T0EX", picture="lunges", version="v1") is None


async def test_export_lists_and_purge_deletes_only_that_workspace(storage: SqlStorage) -> None:
    for team in ("T0EX", "T0OTHER"):
        await storage.exercises.add(
            platform="slack", team_id=team, exercise=custom("Chin tucks", "x-chin-tucks")
        )
        await storage.exercises.switch_builtin(
            platform="slack", team_id=team, key="lunges", on=False, by="U1"
        )
        await storage.exercises.use_pack(
            platform="slack", team_id=team, channel_id="C1", pack="physio"
        )
        await storage.exercises.remember_picture_file(  # type: ignore[attr-defined]
            team_id=team, picture="lunges", version="v1", file_id="F" + team
        )
    repo = storage.exercises
    assert isinstance(repo, SqlExerciseRepository)
    db = Database.shared(storage.engine)
    tables = {t.name: t for t in await export_workspace(db, platform="slack", team_id="T0EX")}
    rows = tables["exercises"].rows
    assert [(r[0], r[7]) for r in rows] == [("x-chin-tucks", "custom"), ("lunges", "built-in, off")]
    assert rows[0][3] == "30 seconds" and rows[0][5] == "https://example.com/chin.png"
    await purge_workspace(db, platform="slack", team_id="T0EX")
    assert await storage.exercises.load(platform="slack", team_id="T0EX") == WorkspaceExercises()
    assert await repo.picture_file(team_id="T0EX", picture="lunges", version="v1") is None
    kept = await storage.exercises.load(platform="slack", team_id="T0OTHER")
    assert kept.custom and kept.off and kept.channel_packs
    assert await repo.picture_file(team_id="T0OTHER", picture="lunges", version="v1") == "FT0OTHER"
