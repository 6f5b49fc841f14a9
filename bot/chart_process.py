"""Charts drawn in a child process, so the bot itself never holds matplotlib.

Drawing needs matplotlib and numpy: about 50 MB of RSS once imported, and the allocator keeps
more after a few charts (bench.weekly_recap prints it). The bot's own process stays small: the
first chart of a pass starts one child (`python -m bot.chart_process`), which imports
matplotlib, draws one chart per request and exits after `IDLE_SECONDS` without one (or when the
bot goes away and its stdin closes). Requests are one JSON line (the chart and the reader's
locale); answers are the PNG's length (8 bytes, big-endian) and its bytes. A child that cannot
be started or dies is replaced once; then the chart is drawn in this process after all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import sys
from datetime import date
from typing import Any

from bot.charts import ChartDay, WeekChart, render_png, render_png_off_loop
from bot.i18n import current_locale, use_locale

logger = logging.getLogger("stretchbot.charts")

IDLE_SECONDS = 60.0  # a child with nothing to draw this long exits
DRAW_TIMEOUT = 30.0
_LENGTH_BYTES = 8


def chart_to_json(chart: WeekChart) -> dict[str, Any]:
    return {
        "week_of": chart.week_of.isoformat(),
        "goal_percent": chart.goal_percent,
        "team_streak": chart.team_streak,
        "days": [
            [day.day.isoformat(), day.breaks, day.goal_met, day.scheduled] for day in chart.days
        ],
    }


def chart_from_json(data: dict[str, Any]) -> WeekChart:
    return WeekChart(
        week_of=date.fromisoformat(data["week_of"]),
        days=tuple(
            ChartDay(date.fromisoformat(day), int(breaks), bool(met), bool(scheduled))
            for day, breaks, met, scheduled in data["days"]
        ),
        goal_percent=data["goal_percent"],
        team_streak=int(data["team_streak"]),
    )


class ChartDrawer:
    """The bot's side: one child at a time, one chart at a time."""

    def __init__(self, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.started = 0  # children started (for tests and benchmarks)

    async def draw(self, chart: WeekChart) -> bytes:
        """The chart as PNG bytes, drawn by the child (started if needed)."""
        request = json.dumps({"chart": chart_to_json(chart), "locale": current_locale()})
        async with self._lock:
            for _attempt in range(2):
                try:
                    proc = await self._child()
                    assert proc.stdin is not None and proc.stdout is not None
                    proc.stdin.write(request.encode() + b"\n")
                    await proc.stdin.drain()
                    async with asyncio.timeout(DRAW_TIMEOUT):
                        size = int.from_bytes(await proc.stdout.readexactly(_LENGTH_BYTES), "big")
                        if size == 0:
                            raise RuntimeError("the chart process could not draw the chart")
                        return await proc.stdout.readexactly(size)
                except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    logger.warning("the chart process failed (%r); starting another", exc)
                    await self.close()
            logger.warning("drawing the chart in the bot's own process")
            return await render_png_off_loop(chart)

    async def _child(self) -> asyncio.subprocess.Process:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            return proc
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.chart_process",
            str(self.idle_seconds),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self.started += 1
        return self._proc

    async def close(self) -> None:
        """Stop the child (shutting down, or after a failure)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def serve(idle_seconds: float) -> int:
    """The child: draw each requested chart until stdin closes or stays quiet too long."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        ready, _w, _x = select.select([stdin], [], [], idle_seconds)
        if not ready:
            return 0
        line = stdin.readline()
        if not line:
            return 0
        try:
            request = json.loads(line)
            with use_locale(request.get("locale")):
                png = render_png(chart_from_json(request["chart"]))
        except Exception:  # a bad request must not end the child: answer "no chart"
            logging.getLogger("stretchbot.charts").exception("drawing a chart failed")
            png = b""
        stdout.write(len(png).to_bytes(_LENGTH_BYTES, "big") + png)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(serve(float(sys.argv[1]) if len(sys.argv) > 1 else IDLE_SECONDS))
