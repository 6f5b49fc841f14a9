"""`stretchbot exercises import | export` as an admin meets them: the real console script on a
real database. A bad file gets one error per bad line on stderr and changes nothing; a good one
replaces the workspace's exercises; export prints a file import reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import nonempty_lines, run_cli
from tests.e2e.test_cli import TEAM, one_line_failure, seed

pytestmark = pytest.mark.e2e

GOOD = """\
off: [lunges]
exercises:
  - name: Chin tucks
    how_to: Sit tall and draw your chin straight back, then relax.
    seconds: 30
    position: seated
    image: https://example.com/chin.png
  - name: Wall angels
    how_to: Stand against a wall and slide your arms up and down.
    reps: 10
    position: standing
    pack: physio
"""

BAD = """\
exercises:
  - name: Neck circles
    how_to: Slowly.
    seconds: 20
    position: seated
  - name: {long}
    how_to: Fine.
    reps: 5
    position: seated
  - name: Pictured
    how_to: Fine.
    reps: 5
    position: seated
    image: http://example.com/p.png
  - name: Odd
    how_to: Fine.
    reps: 5
    position: upside-down
""".format(long="x" * 3000)


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stretchbot.db'}"
    seed(url)
    return {"DATABASE_URL": url}


def test_import_then_export_round_trips(tmp_path: Path, seeded: dict[str, str]) -> None:
    source = tmp_path / "exercises.yaml"
    source.write_text(GOOD, encoding="utf-8")
    done = run_cli("exercises", "import", str(source), "--team", TEAM, cwd=tmp_path, env=seeded)
    assert done.returncode == 0, done
    assert "imported 2 exercise(s) and 1 built-in(s) turned off" in done.stdout
    exported = run_cli("exercises", "export", "--team", TEAM, cwd=tmp_path, env=seeded)
    assert exported.returncode == 0, exported
    assert "Chin tucks" in exported.stdout and "pack: physio" in exported.stdout
    assert "- lunges" in exported.stdout
    # What export prints imports again unchanged.
    again = tmp_path / "again.yaml"
    again.write_text(exported.stdout, encoding="utf-8")
    assert (
        run_cli(
            "exercises", "import", str(again), "--team", TEAM, cwd=tmp_path, env=seeded
        ).returncode
        == 0
    )
    second = run_cli("exercises", "export", "--team", TEAM, cwd=tmp_path, env=seeded)
    assert second.stdout == exported.stdout
    # The workspace export has them as exercises.csv.
    out = tmp_path / "csv"
    assert (
        run_cli("export", "--team", TEAM, "--out", str(out), cwd=tmp_path, env=seeded).returncode
        == 0
    )
    csv = (out / "exercises.csv").read_text(encoding="utf-8")
    assert "x-chin-tucks,Chin tucks" in csv and "lunges" in csv


def test_a_bad_file_gets_one_error_per_bad_line_and_changes_nothing(
    tmp_path: Path, seeded: dict[str, str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert (
        run_cli(
            "exercises", "import", str(good), "--team", TEAM, cwd=tmp_path, env=seeded
        ).returncode
        == 0
    )
    before = run_cli("exercises", "export", "--team", TEAM, cwd=tmp_path, env=seeded).stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = run_cli("exercises", "import", str(bad), "--team", TEAM, cwd=tmp_path, env=seeded)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = nonempty_lines(result.stderr)
    assert [line.split(":")[1].strip() for line in lines[:-1]] == ["line 6", "line 14", "line 18"]
    assert "80" in lines[0] and "https://" in lines[1] and "seated or standing" in lines[2]
    assert all(len(line) < 300 for line in lines)  # the 3,000-character name is not echoed
    assert lines[-1].startswith("stretchbot: ") and "nothing was changed" in lines[-1]
    after = run_cli("exercises", "export", "--team", TEAM, cwd=tmp_path, env=seeded).stdout
    assert after == before


@pytest.mark.parametrize(
    "data",
    [
        b"exercises:\n  - name: [unclosed\n",
        b"",
        b"just words\n",
        b"exercises:\n  - name: \xff\xfe\n",
    ],
    ids=["broken YAML", "empty", "no mapping", "not UTF-8"],
)
def test_broken_files_are_one_clear_line_each(
    tmp_path: Path, seeded: dict[str, str], data: bytes
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(data)
    result = run_cli("exercises", "import", str(path), "--team", TEAM, cwd=tmp_path, env=seeded)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    assert "nothing" in nonempty_lines(result.stderr)[-1]


def test_unknown_team_missing_file_or_database_are_one_line(
    tmp_path: Path, seeded: dict[str, str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    line = one_line_failure(
        run_cli("exercises", "import", str(good), "--team", "T0NOPE", cwd=tmp_path, env=seeded)
    )
    assert "nothing is stored for slack team T0NOPE" in line
    line = one_line_failure(
        run_cli("exercises", "import", "missing.yaml", "--team", TEAM, cwd=tmp_path, env=seeded)
    )
    assert "cannot read missing.yaml" in line
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{elsewhere / 'none.db'}"}
    for command in (
        ("exercises", "import", str(good), "--team", TEAM),
        ("exercises", "export", "--team", TEAM),
    ):
        line = one_line_failure(run_cli(*command, cwd=elsewhere, env=env))
        assert "nothing is stored" in line
    assert list(elsewhere.iterdir()) == []  # no database was created


def test_export_never_overwrites_without_force(tmp_path: Path, seeded: dict[str, str]) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text("kept\n")
    line = one_line_failure(
        run_cli("exercises", "export", "--team", TEAM, "--out", str(out), cwd=tmp_path, env=seeded)
    )
    assert "--force" in line and out.read_text() == "kept\n"
    forced = run_cli(
        "exercises",
        "export",
        "--team",
        TEAM,
        "--out",
        str(out),
        "--force",
        cwd=tmp_path,
        env=seeded,
    )
    assert forced.returncode == 0 and out.read_text().startswith("# stretchbot exercises")
