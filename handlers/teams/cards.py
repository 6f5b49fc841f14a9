"""Rendering for Teams: Adaptive Cards (v1.5) for nudges and boards, and command replies.

Replies from the core are Slack-flavoured (`<@U123>` mentions, `/stretch ...` usage, backticks);
`reply_activity` turns them into Teams markdown with real mention entities.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    Mention,
    TextFormatTypes,
)

from bot.commands.base import Button
from bot.exercises import Exercise
from bot.i18n import N_, _, ngettext
from bot.pictures import alt_text
from bot.ports import Board
from bot.replies import DATE_TOKEN, board_heading, board_lines

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
DONE_VERB = "done"
RUN_VERB = "run"  # a reply's button: runs `stretch <command>` as the person who pressed it
MAX_BOARD_LINES = 30
MAX_MOVERS_NAMED = 10
MAX_NAME = 80

HELLO = N_(
    "Hi, I'm stretchbot: I post short movement breaks here so everyone gets up every so often. "
    "Try `@stretchbot stretch every 45m 09:00-17:00 weekdays`, or `@stretchbot help`."
)

POSITION_HINTS = {
    "seated": N_("Seated: you can do this at your desk."),
    "standing": N_("Standing: get up for this one."),
    "floor": N_("On the floor: find a bit of space (a mat or carpet helps)."),
}

_SLACK_MENTION = re.compile(r"<@([^>|]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#[^>|]{1,300}>")
_SLASH_COMMAND = re.compile(r"/stretch\b( (?=[\w\[]))?")
_UNSAFE_NAME = re.compile(r"[<>\[\]*_`~\\#|{}\r\n\t]")


def safe_name(name: str) -> str:
    """A display name that cannot break markup, links or a mention tag."""
    cleaned = _UNSAFE_NAME.sub("", name).strip()
    return cleaned[:MAX_NAME] or _("someone")


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(body: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
        **extra,
    }


def movers_line(names: Sequence[str], unnamed: int = 0) -> str:
    """`Moved so far: Ada, Grace and 3 others.`"""
    shown = [safe_name(name) for name in names[:MAX_MOVERS_NAMED]]
    others = unnamed + max(0, len(names) - MAX_MOVERS_NAMED)
    if others:
        shown.append(
            ngettext("{count} other", "{count} others", others).format(count=others)
            if shown
            else str(others)
        )
    if not shown:
        return ""
    listed = (
        shown[0]
        if len(shown) == 1
        else _("{names} and {last}").format(names=", ".join(shown[:-1]), last=shown[-1])
    )
    people = len(names) + unnamed
    return _("Moved so far ({count}): {names}.").format(count=people, names=listed)


def nudge_card(
    exercise: Exercise,
    movers: Sequence[str] = (),
    unnamed_movers: int = 0,
    *,
    image_url: str | None = None,
) -> dict[str, Any]:
    """The nudge: exercise, its picture (an https `image_url`, with alt text), how-to, dose,
    a Done button (`Action.Execute`, verb `done`) and, once people press it, who has moved
    so far."""
    body = [
        _text_block(nudge_summary(exercise), weight="Bolder", size="Medium", style="heading"),
        *(
            [
                {
                    "type": "Image",
                    "url": image_url,
                    "altText": alt_text(exercise),
                    "size": "Stretch",
                }
            ]
            if image_url
            else []
        ),
        _text_block(exercise.shown_how_to),
        _text_block(exercise.shown_dose, isSubtle=True, spacing="Small"),
        _text_block(
            (
                _(POSITION_HINTS[exercise.position]) + " "
                if exercise.position in POSITION_HINTS
                else ""
            )
            + _("Press Done or react when you've moved."),
            size="Small",
            isSubtle=True,
        ),
    ]
    line = movers_line(movers, unnamed_movers)
    if line:
        body.append(_text_block(line, weight="Bolder", color="Good", spacing="Medium"))
    return _card(
        body,
        actions=[
            {
                "type": "Action.Execute",
                "title": _("Done ✅"),
                "verb": DONE_VERB,
                "style": "positive",
                "data": {"exercise": exercise.key},
            }
        ],
    )


def board_card(board: Board, names: Mapping[str, str]) -> dict[str, Any]:
    """`1. <at>Ada</at> 5 breaks, 3-day streak` per person (mentions for known names)."""
    title = board_heading(board)
    lines: list[str] = []
    mentions: list[dict[str, Any]] = []
    for entry, line in zip(board.entries[:MAX_BOARD_LINES], board_lines(board), strict=False):
        name = names.get(entry.person_id)
        if name:
            tag = f"<at>{safe_name(name)}</at>"
            mentions.append(
                {
                    "type": "mention",
                    "text": tag,
                    "mentioned": {"id": entry.person_id, "name": safe_name(name)},
                }
            )
        else:
            tag = _("Someone")
        lines.append(line.replace(f"<@{entry.person_id}>", tag, 1))
    rest = len(board.entries) - MAX_BOARD_LINES
    if rest > 0:
        lines.append(
            ngettext(
                "…and {count} more person who moved.", "…and {count} more people who moved.", rest
            ).format(count=rest)
        )
    body = [
        _text_block(f"🏅 {title}", weight="Bolder", size="Medium", style="heading"),
        *(_text_block(line, spacing="Small") for line in lines),
        _text_block(
            _("Ranked by breaks, then streak. React to a nudge or press Done to join in."),
            size="Small",
            isSubtle=True,
            spacing="Medium",
        ),
    ]
    card = _card(body)
    card["msteams"]["entities"] = mentions
    return card


def card_attachment(card: Mapping[str, Any]) -> Attachment:
    return Attachment(content_type=CARD_CONTENT_TYPE, content=dict(card))


def card_activity(card: Mapping[str, Any], *, summary: str) -> Activity:
    """A message carrying one Adaptive Card; `summary` is what notifications show."""
    return Activity(
        type=ActivityTypes.message, attachments=[card_attachment(card)], summary=summary
    )


def nudge_activity(exercise: Exercise, image_url: str | None = None) -> Activity:
    return card_activity(nudge_card(exercise, image_url=image_url), summary=nudge_summary(exercise))


def nudge_summary(exercise: Exercise) -> str:
    """'Movement break: Heel lifts', in the reader's language."""
    return _("Movement break: {name}").format(name=exercise.shown_name)


def board_activity(board: Board, names: Mapping[str, str]) -> Activity:
    return card_activity(board_card(board, names), summary=board_heading(board))


def teams_markdown(text: str, names: Mapping[str, str]) -> tuple[str, list[Mention]]:
    """Slack-flavoured reply text as Teams markdown plus the mention entities it needs.

    `<@id>` becomes a mention of that person when their name is known (else "someone"),
    `/stretch word` becomes `@stretchbot word`, and lines are separated by blank lines, which
    every Teams client renders as line breaks.
    """
    text = DATE_TOKEN.sub(r"\2", text)  # Teams shows the fallback: the time in channel time
    text = _CHANNEL_REF.sub("a channel", text)  # a Teams channel id is no name
    mentions: list[Mention] = []
    parts: list[str] = []
    position = 0
    for match in _SLACK_MENTION.finditer(text):
        parts.append(_plain(text[position : match.start()]))
        person = match.group(1)
        name = names.get(person)
        if name:
            tag = f"<at>{html.escape(safe_name(name), quote=False)}</at>"
            mentions.append(
                Mention(mentioned=ChannelAccount(id=person, name=safe_name(name)), text=tag)
            )
            parts.append(tag)
        else:
            parts.append("someone")
        position = match.end()
    parts.append(_plain(text[position:]))
    lines = "".join(parts).split("\n")
    return "\n\n".join(line.rstrip() for line in lines if line.strip()), mentions


def _plain(text: str) -> str:
    def command(match: re.Match[str]) -> str:
        return "@stretchbot " if match.group(1) else "@stretchbot stretch"

    return _SLASH_COMMAND.sub(command, html.escape(text, quote=False))


def mentioned_people(text: str) -> list[str]:
    """Ids of the people a core reply mentions (`<@id>`)."""
    return list(dict.fromkeys(match.group(1) for match in _SLACK_MENTION.finditer(text)))


def reply_activity(text: str, names: Mapping[str, str], buttons: Sequence[Button] = ()) -> Activity:
    """A Teams message for a core reply (see `teams_markdown`); its buttons, if any, come
    in a card under the text."""
    body, mentions = teams_markdown(text, names)
    message = Activity(type=ActivityTypes.message, text=body, text_format=TextFormatTypes.markdown)
    if mentions:
        message.entities = list(mentions)
    if buttons:
        message.attachments = [card_attachment(buttons_card(buttons))]
    return message


def buttons_card(buttons: Sequence[Button]) -> dict[str, Any]:
    """A card holding a reply's buttons (`Action.Execute`, verb `run`)."""
    return _card(
        [],
        actions=[
            {
                "type": "Action.Execute",
                "title": button.label,
                "verb": RUN_VERB,
                "data": {"command": button.command},
                **(
                    {"style": "destructive" if button.style == "danger" else "positive"}
                    if button.style
                    else {}
                ),
            }
            for button in buttons
        ],
    )


def answer_card(text: str) -> dict[str, Any]:
    """What a pressed reply button turns into: the answer, in place of the buttons."""
    body, _mentions = teams_markdown(text, {})
    return _card([_text_block(body)])
