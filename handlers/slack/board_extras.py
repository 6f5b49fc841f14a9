"""Block Kit for the team lines under a board (team goal and streak, most improved, the
regulars, slot suggestions), split into sections within Slack's limits."""

from __future__ import annotations

from typing import Any

from bot.team_replies import extras_lines
from bot.teamgoal import TeamExtras
from handlers.slack.blocks import SECTION_TEXT_LIMIT, reply_text

MAX_EXTRA_SECTIONS = 8


def extras_blocks(extras: TeamExtras) -> list[dict[str, Any]]:
    """A divider and a section per team line (a long line of names over several sections),
    at most `MAX_EXTRA_SECTIONS` sections."""
    sections: list[dict[str, Any]] = []
    for line in extras_lines(extras):
        text = reply_text(line)
        while text and len(sections) < MAX_EXTRA_SECTIONS:
            cut = len(text)
            if cut > SECTION_TEXT_LIMIT - 100:
                cut = text.rfind(", ", 0, SECTION_TEXT_LIMIT - 100) + 1 or SECTION_TEXT_LIMIT - 100
            sections.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:cut]}})
            text = text[cut:].lstrip()
    return [{"type": "divider"}, *sections] if sections else []


def extras_text(extras: TeamExtras) -> str:
    """The team lines as plain fallback text."""
    return "\n".join(reply_text(line) for line in extras_lines(extras))
