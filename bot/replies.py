"""Wording more than one use case shares: times and dates, counts, post failures, the health
note and the apologies. Each command's own sentences live in its module under bot/commands/;
all of them go through bot.i18n.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import N_, _, format_clock, format_day, ngettext
from bot.ports import Board, PostError, PostResult

HEALTH_NOTE = N_(
    "Move gently and within what feels comfortable. If you feel pain, tingling, numbness or "
    "discomfort that lasts, stop and talk to a doctor or physiotherapist."
)
SORRY = N_("Sorry, something went wrong on my side. Please try again in a minute.")
NOT_A_NUDGE = N_("That nudge isn't one I can count anymore. Catch the next one!")

FAR_AWAY = timedelta(days=6)  # a date further ahead than this is shown with its year


def local_text(moment: datetime, tz: str, now: datetime) -> str:
    """'today 10:30 CET', 'tomorrow 09:45 CET', 'Mon 24 Nov 09:45 CET', or with the year
    ('Mon 4 Jan 2027 09:45 CET') for dates more than six days away or past, in the zone `tz`
    and the current locale."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date()
    today = now.astimezone(zone).date()
    clock = f"{format_clock(local)} {local.tzname()}"
    if day == today:
        return _("today {time}").format(time=clock)
    if day == today + timedelta(days=1):
        return _("tomorrow {time}").format(time=clock)
    far = day - today > FAR_AWAY or day < today
    return _("{date} {time}").format(date=format_day(day, with_year=far), time=clock)


def when(moment: datetime, tz: str, now: datetime) -> str:
    """A moment people read in their own timezone: Slack's date token (`<!date^...>`, which
    each reader's client shows in their own zone) with `local_text` in the channel's zone as
    the fallback that other platforms and notifications show."""
    return date_token(moment, local_text(moment, tz, now))


def date_token(moment: datetime, fallback: str) -> str:
    """`<!date^EPOCH^{date_short_pretty} {time}|fallback>`: today/tomorrow or the date with
    its year, and the time, in the reader's zone and clock format."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


DATE_TOKEN = re.compile(r"<!date\^(\d{1,12})\^\{date_short_pretty\} \{time\}\|([^<>|]{1,100})>")


def count_breaks(count: int) -> str:
    """'1 break', '3 breaks'."""
    return ngettext("{count} break", "{count} breaks", count).format(count=count)


def count_minutes(count: int) -> str:
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)


def count_seconds(count: int) -> str:
    return ngettext("{count} second", "{count} seconds", count).format(count=count)


def board_lines(board: Board) -> list[str]:
    """`1. <@U123> 5 breaks, 3-day streak` per person; ties share a rank."""
    lines = []
    for entry in board.entries:
        line = ngettext(
            "{rank}. <@{person}> {count} break", "{rank}. <@{person}> {count} breaks", entry.breaks
        ).format(rank=entry.rank, person=entry.person_id, count=entry.breaks)
        if entry.streak:
            line += ngettext(", {days}-day streak", ", {days}-day streak", entry.streak).format(
                days=entry.streak
            )
            if entry.freezes:
                line += " " + ngettext(
                    "({count} freeze used)", "({count} freezes used)", entry.freezes
                ).format(count=entry.freezes)
        lines.append(line)
    return lines


def board_heading(board: Board) -> str:
    """A board's heading: 'Movement leaderboard: this week'."""
    period = board.title[:1].lower() + board.title[1:]
    return _("Movement leaderboard: {period}").format(period=period)


def sentence(text: str) -> str:
    """`text` ended as a sentence in the current language ('.' or '。')."""
    return _("{text}.").format(text=text)


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def post_problem(result: PostResult) -> str:
    """Why a post into the channel failed, for the person who asked for it."""
    match result.error:
        case PostError.NOT_IN_CHANNEL:
            return _("I'm not in this channel. Invite me with `/invite @stretchbot` and try again.")
        case PostError.CHANNEL_GONE:
            return _("I can't post here: this channel is archived or I can't see it.")
        case PostError.AUTH:
            return _(
                "My access to this workspace isn't valid any more; ask an admin to reinstall the app."
            )
        case PostError.RATE_LIMITED:
            return _("The chat service is rate-limiting me right now; try again in a minute.")
        case _:
            return _("I couldn't post here just now; please try again in a moment.")
