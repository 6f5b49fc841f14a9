"""The Home tab as a Block Kit view: the person's week and streak, their buttons (a break now,
opt out or in), then one page of their scheduled channels, soonest nudge first, each with
"Edit schedule" and a seated-only switch where they may change it, and the pager.

At most `PAGE_SIZE` channels of two blocks each: about 55 blocks whatever the number of
channels, under the 100 of a view; every text stays under a section's 3000 characters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.commands.base import Reply
from bot.home import HomeSummary
from bot.home_words import (
    channel_ref,
    count_channels,
    reminders_line,
    schedule_line,
    streak_line,
    week_line,
)
from bot.i18n import N_, _
from handlers.slack.blocks import BUTTON_TEXT_LIMIT, reply_text, text_sections
from handlers.slack.fields import CONVERSATION, slack_id

HOME_RUN = "stretch_home_run"  # + _<n>: runs `/stretch <value>` in the person's DM
HOME_EDIT = "stretch_home_edit"  # + :<channel>: opens the settings modal of the channel
HOME_SEATED = "stretch_home_seated"  # + :<channel>: `seated on|off` (value) in the channel
HOME_PAGE = "stretch_home_page"  # + _prev / _next: the page in the value
NOTICE_SECTIONS = 2  # an answer shown on the Home tab: at most this many sections


@dataclass(frozen=True)
class HomePlace:
    """Where a person's Home tab stands: their DM with the app and the page shown."""

    dm: str | None = None
    page: int = 0

    def metadata(self) -> str:
        return json.dumps({"dm": self.dm, "page": self.page}, separators=(",", ":"))

    @classmethod
    def read(cls, metadata: object) -> HomePlace:
        """From a view's private_metadata; anything unreadable is the first page, no DM."""
        try:
            data = json.loads(metadata) if isinstance(metadata, str) and metadata else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        page = data.get("page")
        return cls(
            dm=slack_id(data.get("dm"), CONVERSATION),
            page=page if isinstance(page, int) and 0 <= page < 10_000 else 0,
        )


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text[:BUTTON_TEXT_LIMIT], "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _notice(reply: Reply) -> list[dict[str, Any]]:
    blocks = text_sections(reply_text(reply.text))[:NOTICE_SECTIONS]
    if reply.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "home_notice",
                "elements": [
                    _button(button.label, f"{HOME_RUN}_n{index}", button.command, button.style)
                    for index, button in enumerate(reply.buttons[:5])
                ],
            }
        )
    return blocks


def _reminders(summary: HomeSummary) -> dict[str, Any]:
    """The person's own reminders by DM, with a button to start or stop them."""
    running = summary.reminders is not None and summary.reminders.enabled
    button = (
        _button(_("Stop my reminders"), f"{HOME_RUN}_me", "me off")
        if running
        else _button(_("Remind me hourly"), f"{HOME_RUN}_me", "me every 1h")
    )
    return {**_section(reply_text(reminders_line(summary))), "accessory": button}


def home_view(
    summary: HomeSummary, *, place: HomePlace, may_change: bool, notice: Reply | None = None
) -> dict[str, Any]:
    """The Home tab of `summary`'s person (`place.page` is `summary.page`)."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _("Your movement breaks"), "emoji": True},
        },
        _section(reply_text(week_line(summary) + "\n" + streak_line(summary))),
    ]
    if summary.opted_out:
        blocks.append(
            _context(
                reply_text(
                    _(
                        "You're opted out: I don't mention you, show you on boards or store new "
                        "breaks of yours."
                    )
                )
            )
        )
    opt = ("optin", _("Opt back in")) if summary.opted_out else ("optout", _("Opt out"))
    blocks.append(
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                _button(_("Take a break now"), f"{HOME_RUN}_now", "now", "primary"),
                _button(opt[1], f"{HOME_RUN}_opt", opt[0]),
            ],
        }
    )
    blocks.append(_reminders(summary))
    if notice is not None:
        blocks += _notice(notice)
    blocks.append({"type": "divider"})
    blocks += _channel_blocks(summary, may_change)
    pager = []
    if summary.page > 0:
        pager.append(_button(_("◀ Previous"), f"{HOME_PAGE}_prev", str(summary.page - 1)))
    if summary.has_more:
        pager.append(_button(_("More ▶"), f"{HOME_PAGE}_next", str(summary.page + 1)))
    if pager:
        blocks.append({"type": "actions", "block_id": "home_pages", "elements": pager})
    blocks.append(
        _context(
            reply_text(
                _(
                    "In a channel: `/stretch settings` edits its schedule, `/stretch status` "
                    "shows it. Here in Messages, write me `help`, `stats`, `optout` or `optin`."
                )
            )
        )
    )
    return {
        "type": "home",
        "callback_id": "stretch_home",
        "private_metadata": HomePlace(place.dm, summary.page).metadata(),
        "blocks": blocks,
    }


def _channel_blocks(summary: HomeSummary, may_change: bool) -> list[dict[str, Any]]:
    title = "*" + _("Your channels with a schedule") + "*"
    if not summary.total_channels:
        text = (
            title
            + "\n"
            + _(
                "None yet. In a channel, type `/stretch settings` (or `/stretch every 45m "
                "09:00-17:00 weekdays`) and I'll nudge everyone there to move."
            )
        )
        blocks = [_section(reply_text(text))]
        if not summary.listed:
            blocks.append(_context(reply_text(_(_UNLISTED))))
        return blocks
    last = summary.first_shown + len(summary.channels) - 1
    counted = _("{channels}, soonest nudge first; showing {first}–{last}.").format(
        channels=count_channels(summary.total_channels), first=summary.first_shown, last=last
    )
    blocks = [_section(title + "\n" + reply_text(counted))]
    if not summary.listed:
        blocks.append(_context(reply_text(_(_UNLISTED))))
    if summary.admins_only and not may_change:
        blocks.append(
            _context(
                reply_text(
                    _(
                        "Only workspace admins and owners can change schedules here "
                        "(`/stretch admins-only` is on)."
                    )
                )
            )
        )
    for channel in summary.channels:
        line = channel_ref(channel.key) + "\n" + schedule_line(channel, summary)
        blocks.append(_section(reply_text(line)[:2900]))
        if may_change:
            channel_id = channel.key.channel_id
            seated = channel.state.seated_only
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"home_channel:{channel_id}",
                    "elements": [
                        _button(_("Edit schedule"), f"{HOME_EDIT}:{channel_id}", channel_id),
                        _button(
                            _("Standing exercises too") if seated else _("Seated exercises only"),
                            f"{HOME_SEATED}:{channel_id}",
                            "seated off" if seated else "seated on",
                        ),
                    ],
                }
            )
    return blocks


_UNLISTED = N_(
    "I couldn't get your channel list from Slack just now, so these are the channels where you "
    "moved lately. Open this tab again in a minute for all of them."
)
