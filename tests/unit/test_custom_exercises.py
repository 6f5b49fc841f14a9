"""Custom exercises without I/O: what a new one must pass, how names are made safe to post,
the catalog a channel uses, the picker's seated fallback, the YAML file and the command words."""

from __future__ import annotations

import random
from types import MappingProxyType

import pytest

from bot.commands import REGISTRY
from bot.commands.exercises import (
    AddExerciseCommand,
    ListExercisesCommand,
    PackCommand,
    SwitchExerciseCommand,
)
from bot.custom_exercises import (
    NAME_LIMIT,
    CustomExercise,
    Draft,
    WorkspaceExercises,
    builtin_by_name,
    check_draft,
    shown,
    with_key,
)
from bot.exercise_files import read_file, write_file
from bot.exercise_service import listing
from bot.exercises import CATALOG, pick_exercise
from bot.grammar import ParseError

GOOD = Draft(
    name="Chin tucks",
    how_to="Sit tall and draw your chin straight back, then relax.",
    amount="30",
    unit="seconds",
    position="seated",
    image_url="https://example.com/chin.png",
)


def draft(**changes: str) -> Draft:
    return Draft(**{**GOOD.__dict__, **changes})


def made(name: str, *, position: str = "seated", pack: str | None = None) -> CustomExercise:
    exercise, errors = check_draft(draft(name=name, position=position, pack=pack or ""))
    assert exercise is not None, errors
    return with_key(exercise, set())


# ---- checking a draft --------------------------------------------------------------------


def test_a_good_draft_makes_an_exercise_with_a_key_from_its_name() -> None:
    exercise, errors = check_draft(draft(name="  Chin   tücks!  "))
    assert errors == {} and exercise is not None
    assert exercise.name == "Chin tücks!" and exercise.dose == "30 seconds"
    assert with_key(exercise, set()).key == "x-chin-tucks"
    assert with_key(exercise, {"x-chin-tucks", "x-chin-tucks-2"}).key == "x-chin-tucks-3"
    reps, _ = check_draft(draft(amount="1", unit="reps"))
    assert reps is not None and reps.dose == "1 rep"


def test_a_3000_character_name_is_refused_with_the_limit() -> None:
    exercise, errors = check_draft(draft(name="x" * 3000))
    assert exercise is None
    assert set(errors) == {"name"}
    assert str(NAME_LIMIT) in errors["name"] and "3000" in errors["name"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/chin.png",
        "ftp://example.com/chin.png",
        "javascript:alert(1)",
        "example.com/chin.png",
        "https://",
        "https://user:pw@example.com/x.png",
        "https://example.com/a b.png",
        "https://[::1/x.png",
        "https://example.com/" + "a" * 1000,
    ],
)
def test_an_image_address_that_is_not_plain_https_is_refused(url: str) -> None:
    exercise, errors = check_draft(draft(image_url=url))
    assert exercise is None and set(errors) == {"image_url"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "\u200b\u202e"}, "name"),  # only invisible characters
        ({"how_to": ""}, "how_to"),
        ({"how_to": "y" * 501}, "how_to"),
        ({"amount": "0"}, "amount"),
        ({"amount": "601"}, "amount"),
        ({"amount": "30.5"}, "amount"),
        ({"amount": "٣"}, "amount"),  # an Arabic-Indic digit is no ASCII number
        ({"amount": "101", "unit": "reps"}, "amount"),
        ({"unit": "minutes"}, "unit"),
        ({"position": "floor"}, "position"),
        ({"pack": "Physio Pack"}, "pack"),
        ({"pack": "-x"}, "pack"),
    ],
)
def test_each_mistake_names_its_field(changes: dict[str, str], field: str) -> None:
    exercise, errors = check_draft(draft(**changes))
    assert exercise is None and set(errors) == {field}


def test_several_mistakes_are_all_told_at_once() -> None:
    exercise, errors = check_draft(draft(name="", amount="x", position="", image_url="http://a"))
    assert exercise is None
    assert set(errors) == {"name", "amount", "position", "image_url"}


# ---- safe to post ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> stretch",
        "@here now",
        "<@U123> look",
        "<https://evil.example|click>",
        "visit evil.example.com",
        "https://evil.example/x",
        "[click](https://evil.example)",
    ],
)
def test_names_shown_in_channels_cannot_ping_or_link(text: str) -> None:
    exercise = made(text).exercise()
    for shown_text in (exercise.name,):
        assert "<" not in shown_text and ">" not in shown_text
        assert "@here" not in shown_text and "@channel" not in shown_text
        assert "://" not in shown_text and "example.com" not in shown_text
        assert "](" not in shown_text
    # It still reads the same to a person (look-alikes and invisible joiners only).
    assert shown("a.b") == "a.\u2060b" and shown("end.") == "end."


# ---- the catalog a channel uses, and picking from it ----------------------------------------


def test_no_changes_is_the_builtin_catalog() -> None:
    assert WorkspaceExercises().catalog("C1") == list(CATALOG)
    assert not WorkspaceExercises().changed


def test_builtins_off_and_own_exercises_make_the_catalog() -> None:
    own = made("Chin tucks")
    workspace = WorkspaceExercises(custom=(own,), off=frozenset({"lunges", "heel-lifts"}))
    keys = [e.key for e in workspace.catalog("C1")]
    assert "lunges" not in keys and "heel-lifts" not in keys
    assert keys[-1] == own.key and len(keys) == len(CATALOG) - 2 + 1


def test_a_channel_with_a_pack_picks_only_from_it() -> None:
    physio = made("Chin tucks", pack="physio")
    other = made("Wall angels", pack="desk")
    main = made("Wrist circles")
    workspace = WorkspaceExercises(
        custom=(physio, other, main), channel_packs=MappingProxyType({"C1": "physio"})
    )
    assert [e.key for e in workspace.catalog("C1")] == [physio.key]
    everyone = [e.key for e in workspace.catalog("C2")]
    assert main.key in everyone and physio.key not in everyone and other.key not in everyone
    # A pack emptied by an import falls back to the built-ins rather than to nothing.
    empty = WorkspaceExercises(channel_packs=MappingProxyType({"C1": "gone"}))
    assert empty.catalog("C1") == list(CATALOG)


def test_everything_off_falls_back_to_the_builtins() -> None:
    workspace = WorkspaceExercises(off=frozenset(e.key for e in CATALOG))
    assert workspace.catalog("C1") == list(CATALOG)


def test_the_picker_uses_the_catalog_and_never_repeats_the_last_three() -> None:
    own = [made(f"Move {n}").exercise() for n in range(5)]
    rng = random.Random(1)
    recent: list[str] = []
    for _ in range(50):
        pick = pick_exercise(recent, catalog=own, rng=rng)
        assert pick in own and pick.key not in recent[:3]
        recent.insert(0, pick.key)


def test_seated_only_is_respected_with_a_fallback_to_builtin_seated_moves() -> None:
    standing = [made(f"Jump {n}", position="standing").exercise() for n in range(3)]
    seated = made("Chin tucks").exercise()
    rng = random.Random(2)
    for _ in range(20):
        assert pick_exercise([], seated_only=True, catalog=[*standing, seated], rng=rng) == seated
        fallback = pick_exercise([], seated_only=True, catalog=standing, rng=rng)
        assert fallback.position == "seated" and fallback in CATALOG


def test_find_knows_builtins_and_the_workspaces_own() -> None:
    own = made("Chin tucks")
    workspace = WorkspaceExercises(custom=(own,))
    assert workspace.find(own.key) == own.exercise()
    assert workspace.find("heel-lifts") is not None
    assert workspace.find("x-nope") is None


def test_builtins_are_found_by_key_name_or_unique_start() -> None:
    assert builtin_by_name("heel-lifts").key == "heel-lifts"  # type: ignore[union-attr]
    assert builtin_by_name("Heel Lifts").key == "heel-lifts"  # type: ignore[union-attr]
    assert builtin_by_name("lunges").key == "lunges"  # type: ignore[union-attr]
    assert builtin_by_name("seated") is None  # the start of several names
    assert builtin_by_name("") is None


def test_the_listing_names_what_is_on_off_and_the_packs() -> None:
    own = made("Chin tucks", pack="physio")
    workspace = WorkspaceExercises(custom=(own,), off=frozenset({"lunges"}))
    text = listing(workspace, "C1")
    assert "Turned off: `lunges`" in text and "`physio`" in text and "Heel lifts" in text
    packed = listing(
        WorkspaceExercises(custom=(own,), channel_packs=MappingProxyType({"C1": "physio"})), "C1"
    )
    assert "pack `physio`" in packed and "Chin tucks" in packed and "Heel lifts" not in packed


# ---- the YAML file ---------------------------------------------------------------------------

GOOD_FILE = """\
off: [lunges, glute-bridges]
exercises:
  - name: Chin tucks
    how_to: Sit tall and draw your chin straight back, then relax.
    seconds: 30
    position: seated
    image: https://example.com/chin.png
  - name: Wall angels
    how_to: Stand with your back to a wall and slide your arms up and down.
    reps: 10
    position: standing
    pack: physio
"""


def test_a_good_file_reads_and_writes_back_the_same() -> None:
    read = read_file(GOOD_FILE)
    assert read.errors == []
    assert [e.key for e in read.exercises] == ["x-chin-tucks", "x-wall-angels"]
    assert read.off == {"lunges", "glute-bridges"}
    assert read.exercises[1].pack == "physio" and read.exercises[1].dose == "10 reps"
    again = read_file(
        write_file(WorkspaceExercises(custom=tuple(read.exercises), off=frozenset(read.off)))
    )
    assert again.errors == [] and again.exercises == read.exercises and again.off == read.off


def test_a_bad_file_gets_one_error_per_bad_line() -> None:
    text = (
        "off: [lunges, no-such-move]\n"  # line 1
        "exercises:\n"
        "  - name: Chin tucks\n"
        "    how_to: Sit tall.\n"
        "    seconds: 30\n"
        "    position: seated\n"
        "    image: http://example.com/chin.png\n"  # line 7
        "  - name: " + "x" * 3000 + "\n"  # line 8
        "    how_to: Fine.\n"
        "    reps: 10\n"
        "    position: standing\n"
        "  - name: Good one\n"
        "    how_to: Fine.\n"
        "    reps: 10\n"
        "    position: sideways\n"  # line 15
        "    colour: red\n"  # line 16
    )
    read = read_file(text)
    lines = sorted(int(e.split(":")[0].removeprefix("line ")) for e in read.errors)
    assert lines == [1, 7, 8, 16], read.errors
    assert any("no-such-move" in e for e in read.errors)
    assert any("https" in e for e in read.errors)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("exercises:\n  - name: [unclosed\n", 3),
        ("", 1),
        ("- just a list\n", 1),
        ("exercises: 5\n", 1),
        ("exercises:\n  - just text\n", 2),
        (
            "exercises:\n  - name: A\n    how_to: B\n    seconds: 5\n    reps: 5\n    position: seated\n",
            2,
        ),
        (
            "exercises:\n  - name: A\n    how_to: B\n    seconds: 5\n    position: seated\n"
            "  - name: a\n    how_to: B\n    seconds: 5\n    position: seated\n",
            6,
        ),
    ],
)
def test_broken_files_say_where(text: str, line: int) -> None:
    read = read_file(text)
    assert read.errors and read.errors[0].startswith(f"line {line}:"), read.errors


def test_an_empty_list_is_a_workspace_without_its_own_exercises() -> None:
    read = read_file("exercises:\n")
    assert read.errors == [] and read.exercises == []


# ---- the command words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("exercises", ListExercisesCommand),
        ("exercise", ListExercisesCommand),
        ("exercises add", AddExerciseCommand),
        ("exercises off lunges", SwitchExerciseCommand),
        ("exercises on Heel lifts", SwitchExerciseCommand),
        ("exercises pack", PackCommand),
        ("exercises pack physio", PackCommand),
        ("exercises pack off", PackCommand),
    ],
)
def test_the_words_parse(text: str, kind: type) -> None:
    assert isinstance(REGISTRY.parse(text), kind)


@pytest.mark.parametrize(
    "text",
    [
        "exercises add now",
        "exercises off",
        "exercises off <!channel>",
        "exercises pack Two Words",
        "exercises pack <@U1>",
        "exercises dance",
    ],
)
def test_mistakes_are_friendly_and_safe(text: str) -> None:
    error = REGISTRY.parse(text)
    assert isinstance(error, ParseError)
    assert "<!channel>" not in error.message and "<@U1>" not in error.message


def test_asking_for_the_pack_is_no_change_but_choosing_one_is() -> None:
    ask, choose = REGISTRY.parse("exercises pack"), REGISTRY.parse("exercises pack physio")
    assert isinstance(ask, PackCommand) and isinstance(choose, PackCommand)
    assert ask.read_only and not ask.changes_schedule
    assert choose.changes_schedule and not choose.read_only
    for text in ("exercises add", "exercises off lunges"):
        assert REGISTRY.parse(text).changes_schedule  # type: ignore[union-attr]


async def test_a_pass_reads_a_workspace_once_across_its_batches() -> None:
    from bot.exercise_service import ExerciseService
    from bot.ports import ChannelKey

    asked: list[list[tuple[str, str]]] = []

    class Repository:
        async def load_many(self, teams: list[tuple[str, str]]) -> dict:
            asked.append(list(teams))
            return {("slack", "T1"): WorkspaceExercises(off=frozenset({"lunges"}))}

    class Storage:
        exercises = Repository()

    service = ExerciseService(Storage())  # type: ignore[arg-type]
    known: dict = {}
    first = [ChannelKey("slack", "T1", f"C{n}") for n in range(3)]
    second = [ChannelKey("slack", "T1", "C9"), ChannelKey("slack", "T2", "C1")]
    await service.catalogs(first, known)
    catalogs = await service.catalogs(second, known)
    await service.catalogs(first + second, known)
    assert asked == [[("slack", "T1")], [("slack", "T2")]]
    assert service.catalog_of(catalogs, second[1]) is None  # T2 changed nothing: built-ins
    t1 = service.catalog_of(catalogs, second[0])
    assert t1 is not None and "lunges" not in {e.key for e in t1}


def test_group_routines_leave_out_builtins_the_workspace_turned_off() -> None:
    from bot.together import build_routine

    off = frozenset({"heel-lifts", "toe-lifts", "shoulder-rolls", "chair-squats"})
    for seed in range(50):
        routine = build_routine(3, rng=random.Random(seed), without=off)
        assert not {m.key for m in routine.moves} & off
    # With nearly every seated move off, a routine is still made (from all of them).
    seated = frozenset(e.key for e in CATALOG if e.position == "seated")
    routine = build_routine(2, rng=random.Random(1), without=seated)
    assert len(routine.moves) == 2
