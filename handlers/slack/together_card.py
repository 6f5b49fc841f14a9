"""Block Kit for `/stretch together` cards: the routine with each move's dose, the start time
(a `<!date>` token), the roll call, and the "I'm in" / Done buttons (none once it is done).

A pure function of the group break: the card is rebuilt whole from storage on every update, so
the last update is exact whatever order presses arrived in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import _, ngettext
from bot.replies import when
from bot.team_ports import GroupBreak
from handlers.slack.blocks import SECTION_TEXT_LIMIT, escape

JOIN_ACTION_ID = "stretch_together_join"
DONE_ACTION_ID = "stretch_together_done"
MAX_NAMED = 200  # mentions on the roll call; the rest are counted (a section holds 3000 chars)


def roll_call(joiners: tuple[str, ...]) -> str:
    """'In (3): <@U1>, <@U2>, <@U3>' within a section's limit."""
    if not joiners:
        return _("Nobody's in yet: press *I'm in* to join.")
    names: list[str] = []
    size = 0
    for person in joiners[:MAX_NAMED]:
        mention = f"<@{person}>"
        if size + len(mention) + 2 > SECTION_TEXT_LIMIT - 200:
            break
        names.append(mention)
        size += len(mention) + 2
    rest = len(joiners) - len(names)
    listed = ", ".join(names)
    if rest:
        listed += " " + ngettext("and {count} more", "and {count} more", rest).format(count=rest)
    return ngettext("*In ({count}):* {names}", "*In ({count}):* {names}", len(joiners)).format(
        count=len(joiners), names=listed
    )


def routine_lines(group: GroupBreak) -> str:
    lines = [
        f"{n}. *{escape(move.shown_name)}*: {escape(move.shown_dose)}"
        for n, move in enumerate(group.routine.moves, start=1)
    ]
    if group.routine.rounds > 1:
        lines.append(
            ngettext(
                "Do the round {count} time.", "Do the round {count} times.", group.routine.rounds
            ).format(count=group.routine.rounds)
        )
    return "\n".join(lines)


def together_message(group: GroupBreak, *, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a group break card."""
    minutes = group.routine.minutes
    start = when(group.starts_at, group.tz, now)
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
            minutes,
        ).format(minutes=minutes, start=start)
    text = f"{title}. " + roll_call(group.joiners)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": routine_lines(group)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": roll_call(group.joiners)}},
    ]
    if group.done:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _("Everyone who joined got a break on the board."),
                    }
                ],
            }
        )
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _(
                            "Seated moves first: do them at your desk. Press *I'm in*, move "
                            "together, and anyone who joined presses *Done* after."
                        ),
                    }
                ],
            }
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": "stretch_together",
                "elements": [
                    {
                        "type": "button",
                        "action_id": JOIN_ACTION_ID,
                        "text": {"type": "plain_text", "text": _("I'm in 🙋"), "emoji": True},
                        "style": "primary",
                        "value": str(group.id),
                    },
                    {
                        "type": "button",
                        "action_id": DONE_ACTION_ID,
                        "text": {"type": "plain_text", "text": _("Done ✅"), "emoji": True},
                        "value": str(group.id),
                    },
                ],
            }
        )
    return text, blocks
