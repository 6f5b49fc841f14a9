"""The weekly recap chart: breaks per day of the week with the team-goal days marked, as data
(`WeekChart`, which Teams draws itself), as alt text, and as a PNG (matplotlib, for Slack).

matplotlib is imported inside `render_png` only, with the Agg backend and no pyplot: a process
pays its import (about 30 MB) when it first draws a chart, not at start.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from bot.i18n import _, ngettext, weekday_abbreviation

WIDTH_PX = 800  # Slack previews images about 360 px high: at 800x450 the text stays legible
HEIGHT_PX = 450
DPI = 100
GOAL_COLOR = "#2e7d32"  # a goal day
DAY_COLOR = "#78909c"  # any other day
_RENDERING = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe
_DRAWER: ThreadPoolExecutor | None = None  # one thread draws, off the event loop


@dataclass(frozen=True)
class ChartDay:
    """One day of the week on the chart."""

    day: date
    breaks: int
    goal_met: bool  # the team met its goal that day (never when the goal is off)
    scheduled: bool  # a day of the channel's schedule


@dataclass(frozen=True)
class WeekChart:
    """A week (Monday to Sunday) of breaks in one channel."""

    week_of: date  # the Monday
    days: tuple[ChartDay, ...]
    goal_percent: int | None  # None: the channel has no team goal
    team_streak: int = 0

    @property
    def total(self) -> int:
        return sum(day.breaks for day in self.days)

    @property
    def goal_days(self) -> int:
        return sum(1 for day in self.days if day.goal_met)


def day_label(day: date) -> str:
    """'Mon 23'."""
    return f"{weekday_abbreviation(day.weekday())} {day.day}"


def chart_title(chart: WeekChart) -> str:
    return _("Movement breaks, week of {day}").format(day=day_label(chart.week_of))


def alt_text(chart: WeekChart) -> str:
    """What the chart shows, in words, for screen readers (at most 1000 characters)."""
    per_day = ", ".join(
        _("{day}: {count}{goal}").format(
            day=day_label(day.day),
            count=day.breaks,
            goal=_(" (goal met)") if day.goal_met else "",
        )
        for day in chart.days
    )
    text = _("Bar chart of breaks per day. {days}. Total {total}.").format(
        days=per_day, total=chart.total
    )
    if chart.goal_percent is not None:
        text += " " + ngettext(
            "The team met its {share} goal on {count} day.",
            "The team met its {share} goal on {count} days.",
            chart.goal_days,
        ).format(share=f"{chart.goal_percent}%", count=chart.goal_days)
    return text[:1000]


def render_png(chart: WeekChart) -> bytes:
    """The chart as an 800x450 PNG: a bar per day, goal days green and starred, counts on the
    bars, large type so Slack's preview stays readable."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    with _RENDERING:
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        labels = [day_label(day.day) for day in chart.days]
        heights = [day.breaks for day in chart.days]
        colors = [GOAL_COLOR if day.goal_met else DAY_COLOR for day in chart.days]
        bars = axes.bar(range(len(labels)), heights, color=colors, width=0.7)
        for bar, day in zip(bars, chart.days, strict=True):
            text = f"{day.breaks} ★" if day.goal_met else str(day.breaks)
            axes.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=16,
                fontweight="bold",
            )
        axes.set_xticks(range(len(labels)), labels, fontsize=15)
        axes.tick_params(axis="y", labelsize=13)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max([*heights, 1]) * 1.25)
        axes.set_title(chart_title(chart), fontsize=19, fontweight="bold", pad=12)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        if chart.goal_percent is not None:
            axes.legend(
                handles=[
                    Patch(
                        color=GOAL_COLOR,
                        label=_("team goal met ({percent}%)").format(percent=chart.goal_percent),
                    )
                ],
                loc="upper left",
                fontsize=13,
                frameon=False,
            )
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
        figure.clear()
    return buffer.getvalue()


async def render_png_off_loop(chart: WeekChart) -> bytes:
    """`render_png` on the one drawing thread: the event loop keeps serving while a chart is
    drawn (about 0.1 s each), and charts are drawn one at a time."""
    global _DRAWER
    if _DRAWER is None:
        _DRAWER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stretchbot-chart")
    # The reader's language travels with the context (run_in_executor does not copy it).
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_DRAWER, context.run, render_png, chart)
