"""A workspace's exercises as a YAML file (`stretchbot exercises import | export`): reading one
into checked exercises, or one error per bad line, and writing one.

Pure: text in, values out. The format:

    off: [lunges, glute-bridges]      # built-ins turned off (keys), optional
    exercises:
      - name: Chin tucks
        how_to: Sit tall and draw your chin straight back, then relax.
        seconds: 30                   # or reps: 10
        position: seated              # or standing
        image: https://example.com/chin-tucks.png   # optional, https only
        pack: physio                  # optional: only channels using this pack
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.custom_exercises import (
    MAX_CUSTOM,
    CustomExercise,
    Draft,
    WorkspaceExercises,
    check_draft,
    with_key,
)
from bot.exercises import find_exercise

if TYPE_CHECKING:
    import yaml

FIELDS = ("name", "how_to", "seconds", "reps", "position", "image", "pack")
MAX_FILE_BYTES = 1_000_000


@dataclass
class ExerciseFile:
    """What a file holds, or what is wrong with it (then nothing may be stored)."""

    exercises: list[CustomExercise] = field(default_factory=list)
    off: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # "line 7: ...", one per bad line


def read_file(text: str) -> ExerciseFile:
    """Check the whole file; every problem is reported with its line number."""
    import yaml  # only when a file is read or written: the running bot never loads it

    result = ExerciseFile()
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        result.errors.append(f"the file is larger than {MAX_FILE_BYTES:,} bytes")
        return result
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        result.errors.append(f"{where}this is not valid YAML ({problem})")
        return result
    if root is None:
        result.errors.append("line 1: the file is empty; it needs an `exercises:` list")
        return result
    if not isinstance(root, yaml.MappingNode):
        result.errors.append(f"{_line(root)}: the file must start with `exercises:` (a mapping)")
        return result
    exercises_node: yaml.Node | None = None
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "exercises":
            exercises_node = value_node
        elif key == "off":
            _read_off(value_node, result)
        else:
            result.errors.append(
                f"{_line(key_node)}: unknown key {str(key)[:40]!r} (use `exercises:` and `off:`)"
            )
    if exercises_node is None:
        result.errors.append("line 1: the file has no `exercises:` list")
        return result
    if isinstance(exercises_node, yaml.ScalarNode) and exercises_node.value in ("", "~", "null"):
        return result  # an empty list: the workspace keeps no exercises of its own
    if not isinstance(exercises_node, yaml.SequenceNode):
        result.errors.append(
            f"{_line(exercises_node)}: `exercises:` must be a list of `- name: ...`"
        )
        return result
    taken: set[str] = set()
    names: set[str] = set()
    for item in exercises_node.value:
        exercise = _read_exercise(item, result)
        if exercise is None:
            continue
        if exercise.name.lower() in names:
            result.errors.append(f"{_line(item)}: {exercise.name[:40]!r} is in the file twice")
            continue
        names.add(exercise.name.lower())
        exercise = with_key(exercise, taken)
        taken.add(exercise.key)
        result.exercises.append(exercise)
    if len(exercises_node.value) > MAX_CUSTOM:
        result.errors.append(
            f"{_line(exercises_node)}: at most {MAX_CUSTOM} exercises per workspace "
            f"(the file has {len(exercises_node.value)})"
        )
    return result


def _read_off(node: yaml.Node, result: ExerciseFile) -> None:
    import yaml  # only when a file is read or written: the running bot never loads it

    items = node.value if isinstance(node, yaml.SequenceNode) else None
    if items is None:
        result.errors.append(
            f"{_line(node)}: `off:` must be a list of exercise keys, like [lunges]"
        )
        return
    for item in items:
        key = item.value if isinstance(item, yaml.ScalarNode) else ""
        if find_exercise(str(key)) is None:
            result.errors.append(
                f"{_line(item)}: {str(key)[:40]!r} is no built-in exercise key "
                "(`/stretch exercises` lists them)"
            )
        else:
            result.off.add(str(key))


def _read_exercise(node: yaml.Node, result: ExerciseFile) -> CustomExercise | None:
    import yaml  # only when a file is read or written: the running bot never loads it

    if not isinstance(node, yaml.MappingNode):
        result.errors.append(f"{_line(node)}: each exercise is a mapping (`- name: ...`)")
        return None
    values: dict[str, str] = {}
    bad = False
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if key not in FIELDS:
            result.errors.append(
                f"{_line(key_node)}: unknown field {str(key)[:40]!r} (use {', '.join(FIELDS)})"
            )
            bad = True
        elif not isinstance(value_node, yaml.ScalarNode):
            result.errors.append(f"{_line(value_node)}: `{key}` must be a single value")
            bad = True
        else:
            values[key] = str(value_node.value)
    if bad:
        return None
    if "seconds" in values and "reps" in values:
        result.errors.append(f"{_line(node)}: give `seconds` or `reps`, not both")
        return None
    unit = "reps" if "reps" in values else "seconds"
    draft = Draft(
        name=values.get("name", ""),
        how_to=values.get("how_to", ""),
        amount=values.get(unit, ""),
        unit=unit,
        position=values.get("position", ""),
        image_url=values.get("image", ""),
        pack=values.get("pack", ""),
    )
    exercise, errors = check_draft(draft)
    if exercise is None:
        where = {"amount": unit, "unit": unit, "image_url": "image", "how_to": "how_to"}
        for name, problem in errors.items():
            field_name = where.get(name, name)
            line = _line_of_field(node, field_name)
            result.errors.append(f"{line}: {field_name}: {problem}")
        return None
    return exercise


def _line(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _line_of_field(node: yaml.MappingNode, name: str) -> str:
    import yaml  # only when a file is read or written: the running bot never loads it

    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
            return _line(value_node)
    return _line(node)


def write_file(workspace: WorkspaceExercises) -> str:
    """The workspace's exercises as a file `read_file` reads back to the same exercises."""
    import yaml  # only when a file is read or written: the running bot never loads it

    data: dict[str, object] = {}
    if workspace.off:
        data["off"] = sorted(workspace.off)
    items: list[dict[str, object]] = []
    for exercise in workspace.custom:
        item: dict[str, object] = {"name": exercise.name, "how_to": exercise.how_to}
        item[exercise.unit] = exercise.amount
        item["position"] = exercise.position
        if exercise.image_url:
            item["image"] = exercise.image_url
        if exercise.pack:
            item["pack"] = exercise.pack
        items.append(item)
    data["exercises"] = items
    header = (
        "# stretchbot exercises: `stretchbot exercises import FILE --team T...` reads it back\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
