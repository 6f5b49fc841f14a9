"""Block Kit rendering for nudges and leaderboards."""

from __future__ import annotations

import re
from typing import Any

from bot.commands.base import Reply
from bot.exercises import Exercise
from bot.i18n import N_, _, ngettext
from bot.ports import Board
from bot.replies import board_heading, board_lines
from bot.who_moved import NudgeRoll

DONE_ACTION_ID = "stretch_done"
MENU_ACTION_ID = "stretch_nudge_menu"  # the nudge's overflow: seated version, skip, pause
ROLL_BLOCK_ID = "stretch_roll"
# The overflow's options: value -> what it does (handlers/slack/nudge_menu.py).
MENU_SEATED = "seated"
MENU_SKIP = "skip"
MENU_PAUSE_TODAY = "pause_today"
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,40}", re.ASCII)
MAX_BOARD_LINES = 30

POSITION_HINTS = {
    "seated": N_("Seated: you can do this at your desk."),
    "standing": N_("Standing: get up for this one."),
    "floor": N_("On the floor: find a bit of space (a mat or carpet helps)."),
}


def escape(text: str) -> str:
    """Escape Slack's control characters so text can never ping (`<!channel>`) or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_OWN_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{1,30})&gt;")
_OWN_CHANNEL = re.compile(r"&lt;#([CGD][A-Z0-9]{1,30})&gt;")
_OWN_DATE = re.compile(r"&lt;!date\^(\d{1,12})\^\{date_short_pretty\} \{time\}\|([^&|]{1,100})&gt;")


def reply_text(text: str) -> str:
    """A command reply made safe for Slack: everything escaped, then only well-formed user
    mentions (`<@U123>`), channel references (`<#C123>`) and date tokens (`<!date^...>`),
    which the bot writes itself, become markup again. Echoed user text cannot form one: the
    parser turns `<`, `>`, `&` and `@` in quotes into look-alikes."""
    text = _OWN_CHANNEL.sub(r"<#\1>", _OWN_MENTION.sub(r"<@\1>", escape(text)))
    return _OWN_DATE.sub(r"<!date^\1^{date_short_pretty} {time}|\2>", text)


RUN_ACTION_PREFIX = "stretch_run"  # a reply's button: runs `/stretch <value>` as the presser
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000


def text_sections(text: str) -> list[dict[str, Any]]:
    """mrkdwn sections holding `text`, split at line ends to stay within a section's limit."""
    sections: list[dict[str, Any]] = []
    chunk: list[str] = []
    size = 0
    for line in text.split("\n"):
        line = line[: SECTION_TEXT_LIMIT - 100]
        if size + len(line) + 1 > SECTION_TEXT_LIMIT - 100 and chunk:
            sections.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}}
            )
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk and any(chunk):
        sections.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    return sections


def reply_message(reply: Reply) -> dict[str, Any]:
    """The Slack message for a command answer (ack body or response_url post): its text,
    and with buttons, blocks holding the text and the buttons."""
    text = reply_text(reply.text)
    message: dict[str, Any] = {
        "text": text,
        "response_type": "in_channel" if reply.public else "ephemeral",
    }
    if reply.buttons:
        buttons = []
        for index, button in enumerate(reply.buttons[:25]):
            element: dict[str, Any] = {
                "type": "button",
                "action_id": f"{RUN_ACTION_PREFIX}_{index}",
                "text": {
                    "type": "plain_text",
                    "text": button.label[:BUTTON_TEXT_LIMIT],
                    "emoji": True,
                },
                "value": button.command[:BUTTON_VALUE_LIMIT],
            }
            if button.style:
                element["style"] = button.style
            buttons.append(element)
        message["blocks"] = [*text_sections(text)[:49], {"type": "actions", "elements": buttons}]
    return message


def roll_line(roll: NudgeRoll) -> str:
    """'✅ 4 moved: <@a> <@b> <@c> <@d>', then 'and N more'. Only well-formed user ids become
    mentions (anything else is counted, never echoed); opted-out people are in the count only.
    Mentions in an edit notify nobody (Slack notifies on a message's first post, not on
    `chat.update`), so the line is social proof without pings."""
    if roll.count == 0:
        return _("Nobody has moved on this one yet: react ✅ or press *Done ✅*.")
    names = [f"<@{person}>" for person in roll.named if _USER_ID.fullmatch(person)]
    rest = roll.count - len(names)
    if not names:
        return ngettext("✅ {count} moved", "✅ {count} moved", roll.count).format(count=roll.count)
    line = ngettext("✅ {count} moved: {names}", "✅ {count} moved: {names}", roll.count).format(
        count=roll.count, names=" ".join(names)
    )
    if rest:
        line += " " + ngettext("and {count} more", "and {count} more", rest).format(count=rest)
    return line


def _menu_option(label: str, value: str) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": label[:BUTTON_TEXT_LIMIT], "emoji": True},
        "value": value,
    }


def nudge_menu() -> dict[str, Any]:
    """The nudge's overflow menu: a seated version (only to you), skip the channel's next
    nudge, pause the channel for the rest of today."""
    return {
        "type": "overflow",
        "action_id": MENU_ACTION_ID,
        "options": [
            _menu_option(_("🪑 Seated version"), MENU_SEATED),
            _menu_option(_("⏭ Skip the next nudge"), MENU_SKIP),
            _menu_option(_("⏸ Pause today"), MENU_PAUSE_TODAY),
        ],
    }


def nudge_message(
    exercise: Exercise,
    roll: NudgeRoll | None = None,
    image: dict[str, Any] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a nudge, in the current locale: name, how-to, dose, the
    picture's `image` block when there is one (see handlers/slack/pictures.py), a Done button
    and the menu; with `roll` (an edit after people moved), the who-moved line under it."""
    name = escape(exercise.shown_name)
    how_to = escape(exercise.shown_how_to)
    text = _("Movement break: {name}. {how_to} React ✅ when you've moved.").format(
        name=name, how_to=how_to
    )
    if roll is not None and roll.count:
        text += " " + ngettext("✅ {count} moved.", "✅ {count} moved.", roll.count).format(
            count=roll.count
        )
    title = _("Movement break: {name}").format(name=name)
    hint = _(POSITION_HINTS[exercise.position]) if exercise.position in POSITION_HINTS else ""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{title}*\n{how_to}\n_{escape(exercise.shown_dose)}_",
            },
        },
        *([image] if image is not None else []),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{hint} " + _("React with ✅ or press *Done ✅* when you've moved."),
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
                    "text": {"type": "plain_text", "text": _("Done ✅"), "emoji": True},
                    "style": "primary",
                    "value": exercise.key,
                },
                nudge_menu(),
            ],
        },
    ]
    if roll is not None:
        blocks.append(
            {
                "type": "context",
                "block_id": ROLL_BLOCK_ID,
                "elements": [{"type": "mrkdwn", "text": roll_line(roll)}],
            }
        )
    return text, blocks


def board_message(board: Board) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of a leaderboard."""
    title = board_heading(board)
    lines = [reply_text(line) for line in board_lines(board)]
    if len(lines) > MAX_BOARD_LINES:
        rest = len(lines) - MAX_BOARD_LINES
        lines = [
            *lines[:MAX_BOARD_LINES],
            ngettext(
                "…and {count} more person who moved.", "…and {count} more people who moved.", rest
            ).format(count=rest),
        ]
    text = title + "\n" + "\n".join(lines)
    if board.team is not None:
        from handlers.slack.board_extras import extras_text

        text += "\n" + extras_text(board.team)
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
    if board.team is not None:
        from handlers.slack.board_extras import extras_blocks

        blocks.extend(extras_blocks(board.team))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _("Ranked by breaks, then streak. React ✅ to a nudge to join in."),
                }
            ],
        }
    )
    return text, blocks[:50]
