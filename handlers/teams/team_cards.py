"""Adaptive Cards (1.5) for the team mechanics in Teams: the group break card (same content as
Slack's: routine, start, roll call, "I'm in" and Done as `Action.Execute` verbs), the weekly
chart (Teams' `Chart.VerticalBar` element, with a text fallback for clients without charts)
and the team lines under a board.

Charts: Teams renders `Chart.*` elements in Adaptive Cards 1.5, our card version, so the recap
is drawn by Teams itself (crisp at any size, themed, no image hosting); a client that cannot
draw it shows the `fallback` text instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.charts import WeekChart, alt_text, chart_title, day_label
from bot.i18n import _, ngettext
from bot.replies import local_text
from bot.team_ports import GroupBreak
from bot.team_replies import extras_lines
from bot.teamgoal import TeamExtras
from handlers.teams.cards import _card, _text_block, safe_name, teams_markdown

JOIN_VERB = "together_join"
FINISH_VERB = "together_done"
MAX_NAMED = 50


def roll_call_text(joiners: tuple[str, ...], names: Mapping[str, str]) -> str:
    if not joiners:
        return _("Nobody's in yet: press I'm in to join.")
    shown = [safe_name(names.get(person, "someone")) for person in joiners[:MAX_NAMED]]
    rest = len(joiners) - len(shown)
    listed = ", ".join(shown)
    if rest:
        listed += " " + ngettext("and {count} more", "and {count} more", rest).format(count=rest)
    return _("In ({count}): {names}").format(count=len(joiners), names=listed)


def together_card(group: GroupBreak, names: Mapping[str, str], *, now: datetime) -> dict[str, Any]:
    """The group break card; without buttons once it is done."""
    start = local_text(group.starts_at, group.tz, now)
    if group.done:
        title = ngettext(
            "Group break done: {count} person moved together 💪",
            "Group break done: {count} people moved together 💪",
            len(group.joiners),
        ).format(count=len(group.joiners))
    else:
        title = ngettext(
            "Group break: {minutes} minute together, starting {start}",
            "Group break: {minutes} minutes together, starting {start}",
            group.routine.minutes,
        ).format(minutes=group.routine.minutes, start=start)
    body: list[dict[str, Any]] = [
        _text_block(title, weight="Bolder", size="Medium", style="heading")
    ]
    for n, move in enumerate(group.routine.moves, start=1):
        body.append(_text_block(f"{n}. {move.shown_name}: {move.shown_dose}", spacing="Small"))
    if group.routine.rounds > 1:
        body.append(
            _text_block(
                ngettext(
                    "Do the round {count} time.",
                    "Do the round {count} times.",
                    group.routine.rounds,
                ).format(count=group.routine.rounds),
                isSubtle=True,
                spacing="Small",
            )
        )
    body.append(
        _text_block(
            roll_call_text(group.joiners, names), weight="Bolder", color="Good", spacing="Medium"
        )
    )
    if group.done:
        return _card(body)
    body.append(
        _text_block(
            _("Press I'm in, move together, and anyone who joined presses Done after."),
            size="Small",
            isSubtle=True,
        )
    )
    return _card(
        body,
        actions=[
            {
                "type": "Action.Execute",
                "title": _("I'm in 🙋"),
                "verb": JOIN_VERB,
                "style": "positive",
                "data": {"group": group.id},
            },
            {
                "type": "Action.Execute",
                "title": _("Done ✅"),
                "verb": FINISH_VERB,
                "data": {"group": group.id},
            },
        ],
    )


def chart_card(chart: WeekChart) -> dict[str, Any]:
    """The week's breaks as a `Chart.VerticalBar`: goal days green, the others neutral."""
    element = {
        "type": "Chart.VerticalBar",
        "title": chart_title(chart),
        "xAxisTitle": _("Day"),
        "yAxisTitle": _("Breaks"),
        "showBarValues": True,
        "data": [
            {
                "x": day_label(day.day),
                "y": day.breaks,
                "color": "good" if day.goal_met else "neutral",
            }
            for day in chart.days
        ],
        "fallback": _text_block(alt_text(chart)),
    }
    body: list[dict[str, Any]] = [element]
    if chart.goal_percent is not None:
        body.append(
            _text_block(
                ngettext(
                    "Green: the team met its {share} goal ({count} day this week).",
                    "Green: the team met its {share} goal ({count} days this week).",
                    chart.goal_days,
                ).format(share=f"{chart.goal_percent}%", count=chart.goal_days),
                size="Small",
                isSubtle=True,
            )
        )
    return _card(body, speak=alt_text(chart))


def extras_blocks(
    extras: TeamExtras, names: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """TextBlocks for the team lines under a board, and the mention entities they need."""
    blocks: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    for line in extras_lines(extras):
        text, found = teams_markdown(line, names)
        blocks.append(_text_block(text, spacing="Small"))
        mentions.extend(
            {
                "type": "mention",
                "text": mention.text,
                "mentioned": {"id": mention.mentioned.id, "name": mention.mentioned.name},
            }
            for mention in found
        )
    if blocks:
        blocks[0]["separator"] = True
        blocks[0]["spacing"] = "Medium"
    return blocks, mentions


def extras_people(extras: TeamExtras) -> list[str]:
    """Everyone the team lines name (for display-name look-ups)."""
    return list(dict.fromkeys([*extras.most_improved, *extras.regulars]))


def board_with_extras(
    card: dict[str, Any], extras: TeamExtras, names: Mapping[str, str]
) -> dict[str, Any]:
    """A board card with the team lines inserted above its footer."""
    blocks, mentions = extras_blocks(extras, names)
    body = list(card["body"])
    card = {**card, "body": [*body[:-1], *blocks, *body[-1:]]}
    card["msteams"] = {
        **card.get("msteams", {}),
        "entities": [*card.get("msteams", {}).get("entities", []), *mentions],
    }
    return card
