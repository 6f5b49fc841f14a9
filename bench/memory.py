"""Memory: resident set size of a running `stretchbot run` vs a bare import of its libraries.

Starts the real console script as a subprocess in HTTP mode (fake Slack Web API in this
process, SQLite file seeded with --schedules (10,000) enabled schedules whose next slots are a
day ahead, so nothing posts), waits for GET /healthz 200 and --settle (3) seconds of scheduler
ticks (SCHEDULER_POLL_SECONDS=0.5), then reads VmRSS (and the peak, VmHWM) from
/proc/<pid>/status. The same with 0 schedules, and with --schedules and Microsoft Teams on
(the Agents SDK's three settings; nothing is sent to Microsoft). Start-up is the wall time from
starting the process until GET /healthz answers 200, and the CPU time the process used by then
(user + system, /proc/<pid>/stat: what a busy host does not inflate). The bot's own modules are
byte-compiled first (`compileall`, into their `__pycache__`), as `pip install` does: with
PYTHONDONTWRITEBYTECODE set every start would compile ~100 modules from source (~0.15 s CPU).

    baseline = RSS of `python -c "import slack_bolt, aiohttp, sqlalchemy, apscheduler; sleep"`
    goals: bot RSS (with --schedules, Teams off) <= 80 MB; start-up < 1.5 s with --schedules
    and with 0 schedules
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import goal, header, seed_channels, table
from bot.config import Settings
from bot.ports import ChannelKey
from bot.schedules import ScheduleSpec, next_slot_after
from storage.engine import create_engine, run_migrations
from tests.fakes.slack_api import FakeSlack

GOAL_MB = 80.0
STARTUP_GOAL_S = 1.5
TEAMS_SETTINGS = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "00000000-0000-4000-8000-00000000be0c",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "bench-secret",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "bench-tenant",
}
ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
SPEC = ScheduleSpec(interval=timedelta(minutes=45), tz="Europe/Berlin")
BASELINE_CODE = (
    "import slack_bolt, aiohttp, sqlalchemy, apscheduler, sys, time\n"
    "print('ready', flush=True)\n"
    "time.sleep(float(sys.argv[1]))\n"
)


def stretchbot_command() -> list[str]:
    script = Path(sys.executable).parent / "stretchbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_environ() -> dict[str, str]:
    """os.environ without anything that configures the bot (no stray setting leaks in)."""
    names = set(Settings.FIELDS)
    return {
        k: v
        for k, v in os.environ.items()
        if k not in names and not k.startswith(("SLACK_", "TEAMS_", "STRETCHBOT_"))
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_bytecode() -> None:
    """Byte-compile the bot's packages (`__pycache__`, ignored by git) as `pip install` does for
    an installed package; with PYTHONDONTWRITEBYTECODE set, every start would compile them."""
    import compileall

    for package in ("bot", "handlers", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB (1 MB = 2**20 bytes)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


async def seed(url: str, schedules: int) -> None:
    engine = create_engine(url)
    try:
        await run_migrations(engine)
        if schedules:
            keys = [ChannelKey("slack", f"T{i % 100:03d}", f"CM{i:05d}") for i in range(schedules)]
            tomorrow = datetime.now(UTC) + timedelta(days=1)
            await seed_channels(engine, keys, SPEC, next_slot_at=next_slot_after(SPEC, tomorrow))
    finally:
        await engine.dispose()


async def stop_process(proc: asyncio.subprocess.Process, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode


async def measure_bot(
    slack: FakeSlack, schedules: int, tmp: str, args: argparse.Namespace, *, teams: bool = False
) -> dict[str, Any]:
    """Run `stretchbot run` on the database seeded in `tmp` and read its memory."""
    url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    port = free_port()
    env = {
        **clean_environ(),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SCHEDULER_POLL_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
        **(TEAMS_SETTINGS if teams else {}),
    }
    stderr_path = Path(tmp) / f"stderr{'-teams' if teams else ''}.log"
    with stderr_path.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            *stretchbot_command(),
            "run",
            cwd=tmp,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            started = time.perf_counter()
            ready = await wait_healthy(port, proc, args.start_timeout)
            ready_after = time.perf_counter() - started
            ready_cpu = cpu_seconds(proc.pid) if ready else 0.0
            if not ready:
                tail = stderr_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"stretchbot did not become healthy:\n{tail}")
            await asyncio.sleep(args.settle)
            mem = memory_mb(proc.pid)
            # Nothing is due: any post at all (from any bot of this run) is a failure.
            posts = sum(1 for c in slack.calls if c.method == "chat.postMessage")
        finally:
            code = await stop_process(proc)
    return {**mem, "ready": ready_after, "ready_cpu": ready_cpu, "posts": posts, "exit": code}


async def wait_healthy(port: int, proc: asyncio.subprocess.Process, within: float) -> bool:
    deadline = time.perf_counter() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.perf_counter() < deadline:
            if proc.returncode is not None:
                return False
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return True
            await asyncio.sleep(0.02)
    return False


async def measure_baseline(args: argparse.Namespace) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BASELINE_CODE,
        str(args.start_timeout + args.settle + 5),
        env=clean_environ(),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), args.start_timeout)
        if line.strip() != b"ready":
            raise RuntimeError("the baseline interpreter did not start")
        await asyncio.sleep(0.5)
        return memory_mb(proc.pid)
    finally:
        await stop_process(proc)


async def run(args: argparse.Namespace) -> int:
    header(
        "memory: RSS of `stretchbot run` (HTTP mode, SQLite) vs bare library imports",
        schedules=args.schedules,
        settle_s=args.settle,
        poll_s=0.5,
    )
    load_at_start = loadavg()
    compile_bytecode()
    configs = [(0, False), (args.schedules, False)] if args.schedules else [(0, False)]
    if not args.skip_teams:
        configs.append((args.schedules, True))
    with contextlib.ExitStack() as stack:
        dirs = [
            stack.enter_context(tempfile.TemporaryDirectory(prefix="stretchbench-mem-"))
            for _ in configs
        ]
        for (n, _), tmp in zip(configs, dirs, strict=True):  # Alembic: one migration at a time
            await seed(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", n)
        async with FakeSlack(team_id="T0001") as slack:
            runs: list[list[dict[str, Any]]] = [[] for _ in configs]
            baselines = []
            for _ in range(args.runs):
                if args.concurrent:  # quicker, for smoke tests; the processes share the CPU
                    baseline, *bots = await asyncio.gather(
                        measure_baseline(args),
                        *(
                            measure_bot(slack, n, tmp, args, teams=teams)
                            for (n, teams), tmp in zip(configs, dirs, strict=True)
                        ),
                    )
                else:
                    baseline = await measure_baseline(args)
                    bots = [
                        await measure_bot(slack, n, tmp, args, teams=teams)
                        for (n, teams), tmp in zip(configs, dirs, strict=True)
                    ]
                baselines.append(baseline)
                for kept, result in zip(runs, bots, strict=True):
                    kept.append(result)
    base = {key: statistics.median(b[key] for b in baselines) for key in ("VmRSS", "VmHWM")}
    results = [
        (config, {key: median_of(results, key) for key in results[0]}, results)
        for config, results in zip(configs, runs, strict=True)
    ]
    rows: list[list[Any]] = [
        [
            "baseline: import slack_bolt, aiohttp, sqlalchemy, apscheduler",
            base["VmRSS"],
            base["VmHWM"],
            "-",
            "-",
            "-",
        ]
    ]
    for (schedules, teams), result, _ in results:
        rows.append(
            [
                f"stretchbot run, {schedules:,} schedules{', Teams on' if teams else ''}",
                result["VmRSS"],
                result["VmHWM"],
                result["VmRSS"] / base["VmRSS"],
                result["ready"],
                result["ready_cpu"],
            ]
        )
    print(f"medians of {args.runs} run(s); load average at start {load_at_start}, now {loadavg()}")
    table(rows, ["process", "RSS MB", "peak MB", "ratio", "ready s", "ready CPU s"])
    failures = [
        f"{schedules} schedules: {r['posts']} nudges posted (none were due)"
        for (schedules, _), _, every in results
        for r in every
        if r["posts"]
    ]
    by_config = {config: result for config, result, _ in results}
    bot = by_config[(args.schedules, False)]
    zero = by_config[(0, False)]
    teams_part = (
        f", with Teams on {by_config[(args.schedules, True)]['VmRSS']:.1f} MB"
        if (args.schedules, True) in by_config
        else ""
    )
    print(
        f"RSS with {args.schedules:,} schedules {bot['VmRSS']:.1f} MB, with 0 schedules "
        f"{zero['VmRSS']:.1f} MB{teams_part}, baseline {base['VmRSS']:.1f} MB; ratio bot/baseline "
        f"{bot['VmRSS'] / base['VmRSS']:.3f}; start-up to /healthz 200: {bot['ready']:.2f} s "
        f"({bot['ready_cpu']:.2f} s CPU) with {args.schedules:,} schedules, {zero['ready']:.2f} s "
        f"({zero['ready_cpu']:.2f} s CPU) with 0; exit codes after SIGTERM: "
        f"{', '.join(str(r['exit']) for _, _, every in results for r in every)}"
    )
    goal(f"bot RSS MB ({args.schedules:,} schedules, Teams off)", bot["VmRSS"], "<=", GOAL_MB)
    goal(f"start-up s ({args.schedules:,} schedules)", bot["ready"], "<", STARTUP_GOAL_S)
    goal("start-up s (0 schedules)", zero["ready"], "<", STARTUP_GOAL_S)
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    return 1 if failures else 0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def median_of(results: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in results]
    return statistics.median(values) if isinstance(values[0], float) else values[-1]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--schedules", type=int, default=10_000, help="enabled schedules (10,000)")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds of ticks before reading (3)"
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="start the baseline and both bots at once (quicker; for smoke tests)",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="starts of each process; medians are shown (3)"
    )
    parser.add_argument("--skip-teams", action="store_true", help="no run with Microsoft Teams on")
    parser.add_argument("--start-timeout", type=float, default=60.0, help="max seconds to healthy")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
