"""The chart-drawing child process: the same PNG as drawing in-process, a dead child replaced,
an idle child gone by itself, and matplotlib never imported by the bot's own process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date, timedelta

from bot.chart_process import ChartDrawer, chart_from_json, chart_to_json
from bot.charts import ChartDay, WeekChart, render_png

MONDAY = date(2026, 11, 23)


def chart(seed: int) -> WeekChart:
    days = tuple(
        ChartDay(MONDAY + timedelta(days=n), (n * seed) % 11, n % 2 == 0, n < 5) for n in range(7)
    )
    return WeekChart(week_of=MONDAY, days=days, goal_percent=60, team_streak=seed)


def test_a_chart_survives_its_trip_through_json() -> None:
    assert chart_from_json(chart_to_json(chart(3))) == chart(3)


async def test_the_child_draws_what_this_process_would_and_is_replaced_when_it_dies() -> None:
    drawer = ChartDrawer(idle_seconds=30)
    try:
        first = await drawer.draw(chart(3))
        assert first == render_png(chart(3))
        assert await drawer.draw(chart(4)) == render_png(chart(4))
        assert drawer.started == 1
        assert drawer._proc is not None
        drawer._proc.kill()
        await drawer._proc.wait()
        assert await drawer.draw(chart(3)) == first
        assert drawer.started == 2
    finally:
        await drawer.close()
    assert drawer._proc is None


async def test_an_idle_child_exits_by_itself() -> None:
    drawer = ChartDrawer(idle_seconds=0.2)
    try:
        await drawer.draw(chart(1))
        proc = drawer._proc
        assert proc is not None
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        await drawer.draw(chart(1))  # the next chart starts a new one
        assert drawer.started == 2
    finally:
        await drawer.close()


def test_the_running_bot_does_not_import_matplotlib() -> None:
    code = (
        "import sys, bot.app, handlers.slack.app, handlers.slack.chat, bot.chart_process; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
