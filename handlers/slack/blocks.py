"""Block Kit rendering for nudges and leaderboards."""

from __future__ import annotations

import re
from typing import Any

from bot.exercises import Exercise
from bot.ports import Board

DONE_ACTION_ID = "stretch_done"
MAX_BOARD_LINES = 30

POSITION_HINTS = {
    "seated": "Seated: you can do this at your desk.",
    "standing": "Standing: get up for this one.",
    "floor": "On the floor: find a bit of space (a mat or carpet helps).",
}


def escape(text: str) -> str:
    """Escape Slack's control characters so text can never ping (`<!channel>`) or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_OWN_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{1,30})&gt;")


def reply_text(text: str) -> str:
    """A command reply made safe for Slack: everything escaped, then only well-formed user
    mentions (`<@U123>`, which the bot writes itself) become mentions again. Echoed user text
    cannot form one: the parser turns `<`, `>` and `@` in quotes into look-alikes."""
    return _OWN_MENTION.sub(r"<@\1>", escape(text))


def nudge_message(exercise: Exercise) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a nudge: name, how-to, dose and a Done button."""
    name = escape(exercise.name)
    text = f"Movement break: {name}. {escape(exercise.how_to)} React ✅ when you've moved."
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Movement break: {name}*\n{escape(exercise.how_to)}\n_{escape(exercise.dose)}_",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{POSITION_HINTS.get(exercise.position, '')} "
                    "React with ✅ or press *Done ✅* when you've moved.",
                }
            ],
        },
        {
            "type": "actions",
            "block_id": "stretch_nudge",
            "elements": [
                {
                    "type": "button",
                    "action_id": DONE_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Done ✅", "emoji": True},
                    "style": "primary",
                    "value": exercise.key,
                }
            ],
        },
    ]
    return text, blocks


def board_lines(board: Board) -> list[str]:
    """`1. <@U123> 5 breaks, 3-day streak` per person; ties share a rank."""
    lines = []
    for entry in board.entries:
        line = f"{entry.rank}. <@{escape(entry.person_id)}> {entry.breaks} break"
        line += "" if entry.breaks == 1 else "s"
        if entry.streak:
            line += f", {entry.streak}-day streak"
        lines.append(line)
    return lines


def board_message(board: Board) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a leaderboard."""
    title = f"Movement leaderboard: {board.title.lower()}"
    lines = board_lines(board)
    if len(lines) > MAX_BOARD_LINES:
        rest = len(lines) - MAX_BOARD_LINES
        lines = [
            *lines[:MAX_BOARD_LINES],
            f"…and {rest} more {'person' if rest == 1 else 'people'} who moved.",
        ]
    text = title + "\n" + "\n".join(lines)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"🏅 {title}", "emoji": True}},
    ]
    # A section's text is limited to 3000 characters: split long boards over several sections.
    chunk: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > 2900 and chunk:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Ranked by breaks, then streak. React ✅ to a nudge to join in.",
                }
            ],
        }
    )
    return text, blocks[:50]
