"""Smoke test of the benchmarks in bench/: each runs at a tiny size and prints its figures.

Each script's `main(argv)` runs in-process (the fake Slack and `stretchbot run` still run as
subprocesses where the benchmark uses them), except bench.memory, which starts as a subprocess
with the first test and is collected by the last. The assertions are about shape, not speed: exit
code 0 (a duplicate or lost post, break or response would exit 1) and the key figure lines.
Postgres variants run only with TEST_POSTGRES_URL (each makes its own throwaway database).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from bench import (
    commands,
    exercise_catalogs,
    fanout,
    home,
    leaderboard,
    onboarding,
    reactions,
    retry_after,
    roundtrips,
    team_board,
    weekly_recap,
    who_moved,
)

ROOT = Path(__file__).resolve().parent.parent

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="TEST_POSTGRES_URL not set")

Main = Callable[[Sequence[str] | None], int]


@pytest.fixture(scope="module", autouse=True)
def memory_run() -> Iterator[subprocess.Popen[str]]:
    """bench.memory as a subprocess, started with the first test of this file: it mostly waits
    for `stretchbot run` processes to start, which overlaps the in-process benchmarks."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.memory",
            "--schedules",
            "20",
            "--settle",
            "1",
            "--concurrent",
            "--runs",
            "1",
            "--skip-teams",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def run_bench(main: Main, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, f"exit {code}:\n{out}"
    assert "CORRECTNESS FAILURE" not in out, out
    return out


def assert_goal_lines(output: str, count: int = 1) -> None:
    goals = [line for line in output.splitlines() if line.startswith("goal: ")]
    assert len(goals) >= count, output
    assert all((" MET" in line) or (" MISSED" in line) for line in goals), goals


FANOUT = ["--workspaces", "2", "--channels-per-workspace", "10"]
REACTIONS = ["--events", "20", "--channels", "5"]
LEADERBOARD = ["--channels", "10", "--days", "10", "--runs", "5", "--warmup", "1"]
LEADERBOARD += ["--board-runs", "2", "--explain"]


def test_retry_after(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(retry_after.main, ["--channels", "30", "--limit", "20"], capsys)
    assert "posts inside a Retry-After window: 0" in out, out
    assert_goal_lines(out)


def test_fanout_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(fanout.main, [*FANOUT, "--skip-postgres"], capsys)
    assert "floor = N x latency / concurrency" in out
    assert "baseline make_client" in out and "bot sqlite" in out
    assert "ratio sqlite: elapsed/floor" in out
    assert "duplicates/lost: NONE" in out
    assert_goal_lines(out)


@needs_postgres
def test_fanout_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(fanout.main, [*FANOUT, "--skip-sqlite", "--postgres", POSTGRES_URL], capsys)
    assert "ratio postgres: elapsed/floor" in out
    assert "duplicates/lost: NONE" in out
    assert_goal_lines(out)


COMMANDS = ["--requests", "20", "--rounds", "2", "--warmup", "4"]


def test_commands_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(commands.main, [*COMMANDS, "--skip-postgres"], capsys)
    assert "bare Bolt ack (sqlite status run)" in out and "stretchbot sqlite status" in out
    for workload in ("status", "mixed"):
        assert f"sqlite {workload}: answers 20/20 arrived (all;" in out
        assert f"ratio sqlite {workload}: p50 bot/bare" in out
    assert "Easy there" not in out  # every request has its own user
    assert_goal_lines(out, 4)


def test_commands_fail_when_answers_are_the_rate_limits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class OnePerson(commands.Users):
        def next(self) -> str:
            return "U0000001"

    monkeypatch.setattr(commands, "Users", OnePerson)
    args = [*COMMANDS, "--skip-postgres", "--workloads", "status"]
    assert commands.main(args) == 1
    assert "answers were the per-person rate limit's" in capsys.readouterr().out


@needs_postgres
def test_commands_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(commands.main, [*COMMANDS, "--skip-sqlite", "--postgres", POSTGRES_URL], capsys)
    for workload in ("status", "mixed"):
        assert f"postgres {workload}: answers 20/20 arrived (all;" in out
        assert f"ratio postgres {workload}: p50 bot/bare" in out
    assert_goal_lines(out, 4)


HOME = ["--people", "6", "--channels", "40", "--rounds", "1", "--warmup", "1"]


@needs_postgres
def test_roundtrips_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    """The reads behind the private answers are one round trip per statement (no BEGIN and
    ROLLBACK): status 3 (channel, team history, slot outcomes), stats 3; main had 7 and 13."""
    out = run_bench(roundtrips.main, ["--postgres", POSTGRES_URL], capsys)
    found = {
        line.split()[1]: int(line.split()[2])
        for line in out.splitlines()
        if line.startswith("/stretch ") and len(line.split()) > 2 and line.split()[2].isdigit()
    }
    assert found.get("status") == 3 and found.get("stats") == 3, out
    assert found.get("leaderboard", 99) <= 3, out


def test_home_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(home.main, [*HOME, "--skip-postgres"], capsys)
    assert "home cold (sqlite)" in out and "home warm (sqlite)" in out
    assert "sqlite: statements per open: max 2, all [2]" in out
    assert "views refused 0; answers missing 0" in out
    assert "ratio sqlite: home p50 / status p50" in out
    assert_goal_lines(out, 4)


@needs_postgres
def test_home_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(home.main, [*HOME, "--skip-sqlite", "--postgres", POSTGRES_URL], capsys)
    assert "postgres: statements per open: max 2, all [2]" in out
    assert "ratio postgres: home p50 / status p50" in out
    assert_goal_lines(out, 4)


def test_exercise_catalogs(capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--channels", "200", "--workspaces", "5", "--own", "3", "--runs", "1"]
    out = run_bench(exercise_catalogs.main, [*tiny, "--skip-postgres"], capsys)
    assert "no changes" in out and "3 own each" in out
    assert_goal_lines(out, 1)


def test_reactions_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(reactions.main, [*REACTIONS, "--skip-postgres"], capsys)
    assert "20/20 breaks committed" in out
    assert "ratio sqlite: bot events/s / bare events/s" in out
    assert_goal_lines(out)


@needs_postgres
def test_reactions_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*REACTIONS, "--skip-sqlite", "--postgres", POSTGRES_URL]
    out = run_bench(reactions.main, args, capsys)
    assert "20/20 breaks committed" in out
    assert "ratio postgres: bot events/s / bare events/s" in out
    assert_goal_lines(out)


WHO_MOVED = ["--burst", "20", "--burst-seconds", "2", "--nudges", "20", "--channels", "4"]
WHO_MOVED += ["--watch", "1"]


def test_who_moved(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(who_moved.main, WHO_MOVED, capsys)
    assert "burst: 20/20 ✅ acked" in out and "calls inside a Retry-After: 0" in out
    assert "ratio: ✅ ingest events/s / bare ack events/s" in out
    assert_goal_lines(out, 4)


def test_leaderboard_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*LEADERBOARD, "--sqlite-breaks", "1000", "--skip-postgres"]
    out = run_bench(leaderboard.main, args, capsys)
    assert "sqlite repository counts()" in out and "sqlite hand SQL" in out
    assert "sqlite build_board week" in out
    assert "EXPLAIN sqlite repository" in out
    assert "ratio sqlite: p50 repository / p50 hand SQL" in out
    assert_goal_lines(out)


@needs_postgres
def test_leaderboard_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*LEADERBOARD, "--breaks", "1000", "--skip-sqlite", "--postgres", POSTGRES_URL]
    out = run_bench(leaderboard.main, args, capsys)
    assert "EXPLAIN postgres repository" in out
    assert "ratio postgres: p50 repository / p50 hand SQL" in out
    assert_goal_lines(out)


def test_memory(memory_run: subprocess.Popen[str]) -> None:
    try:
        out, err = memory_run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        memory_run.kill()
        out, err = memory_run.communicate()
    assert memory_run.returncode == 0, f"exit {memory_run.returncode}:\n{out}{err}"
    assert "CORRECTNESS FAILURE" not in out, out
    assert "baseline: import slack_bolt" in out
    assert "stretchbot run, 20 schedules" in out and "stretchbot run, 0 schedules" in out
    assert_goal_lines(out)


TEAM_BOARD = ["--channels", "10", "--days", "10", "--runs", "4", "--warmup", "1"]
RECAP = ["--channels", "6", "--draw-samples", "2"]


def test_team_board_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(
        team_board.main, [*TEAM_BOARD, "--sqlite-breaks", "1000", "--skip-postgres"], capsys
    )
    assert "sqlite build_board week" in out and "sqlite team board" in out
    assert "boards differing: 0" in out
    assert "ratio sqlite: p50 team board / p50 build_board" in out
    assert_goal_lines(out)


@needs_postgres
def test_team_board_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TEAM_BOARD, "--breaks", "1000", "--skip-sqlite", "--postgres", POSTGRES_URL]
    out = run_bench(team_board.main, args, capsys)
    assert "ratio postgres: p50 team board / p50 build_board" in out
    assert_goal_lines(out)


def test_weekly_recap_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(weekly_recap.main, [*RECAP, "--skip-postgres"], capsys)
    assert "charts shared 6" in out and "channels without exactly one of each: 0" in out
    assert "rendering cost sqlite: p50" in out
    assert_goal_lines(out)


@needs_postgres
def test_weekly_recap_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(
        weekly_recap.main, [*RECAP, "--skip-sqlite", "--postgres", POSTGRES_URL], capsys
    )
    assert "charts shared 6" in out and "channels without exactly one of each: 0" in out
    assert_goal_lines(out)


def test_onboarding_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_bench(
        onboarding.main, ["--channels", "10", "--shortcuts", "3", "--skip-postgres"], capsys
    )
    assert "channels with one hello: 10, more: 0, none: 0" in out
    assert_goal_lines(out, 2)
