"""The sentences of a person's page, shared by the Slack Home tab, `stats` in a direct chat and
the Teams home card: their week, their best streak, and one line per scheduled channel.

Channels are written `<#C123>` (a channel reference: Slack shows the channel's name; other
platforms name it their own way).
"""

from __future__ import annotations

from bot import rules
from bot.home import HomeChannel, HomeSummary
from bot.i18n import _, ngettext
from bot.ports import ChannelKey
from bot.replies import capitalize, count_breaks, sentence, when


def channel_ref(key: ChannelKey) -> str:
    return f"<#{key.channel_id}>"


def count_channels(count: int) -> str:
    return ngettext("{count} channel", "{count} channels", count).format(count=count)


def count_days(count: int) -> str:
    return ngettext(
        "{count} scheduled day in a row", "{count} scheduled days in a row", count
    ).format(count=count)


def week_line(summary: HomeSummary) -> str:
    if not summary.week_breaks:
        return _("No breaks logged this week yet: react ✅ to a nudge (or press Done) to log one.")
    return _("This week: {breaks} in {channels}.").format(
        breaks=count_breaks(summary.week_breaks), channels=count_channels(len(summary.moved_in))
    )


def streak_line(summary: HomeSummary) -> str:
    if not summary.best_streak or summary.best_streak_channel is None:
        return _("No streak running: a break on each of a channel's scheduled days builds one.")
    if summary.best_streak_channel in summary.personal_keys:
        return _("Best streak: {days}, with your personal reminders.").format(
            days=count_days(summary.best_streak)
        )
    return _("Best streak: {days}, in {channel}.").format(
        days=count_days(summary.best_streak), channel=channel_ref(summary.best_streak_channel)
    )


def schedule_line(channel: HomeChannel, summary: HomeSummary) -> str:
    """The channel's schedule in words, when its next nudge comes, and the person's figures
    there: `Every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin). Next nudge: ...`."""
    state, now = channel.state, summary.now
    spec = state.spec
    if spec is None:  # listed channels always have one; a stored row may lose it meanwhile
        return _("No schedule.")
    parts = [sentence(capitalize(spec.describe()))]
    if not state.enabled:
        parts.append(_("Off for now."))
    elif rules.is_paused(state, now) and rules.pause_end(state, now) is None:
        parts.append(_("Paused until someone resumes it."))
    elif rules.is_paused(state, now) and channel.next_nudge is not None:
        end = rules.pause_end(state, now)
        assert end is not None
        parts.append(
            _("Paused until {until}; next nudge {when}.").format(
                until=when(end, spec.tz, now), when=when(channel.next_nudge, spec.tz, now)
            )
        )
    elif channel.next_nudge is not None:
        parts.append(_("Next nudge: {when}.").format(when=when(channel.next_nudge, spec.tz, now)))
    if state.seated_only:
        parts.append(_("Seated exercises only."))
    if channel.week_breaks or channel.streak:
        mine = _("You: {breaks} this week").format(breaks=count_breaks(channel.week_breaks))
        if channel.streak:
            mine += ngettext(", {days}-day streak", ", {days}-day streak", channel.streak).format(
                days=channel.streak
            )
        parts.append(sentence(mine))
    return " ".join(parts)


def direct_stats_lines(summary: HomeSummary) -> list[str]:
    """`stats` in a direct chat: the week, the streak, then each channel with a schedule
    where the person moved lately."""
    lines = [_("Your movement breaks across your channels."), week_line(summary)]
    lines.append(streak_line(summary))
    if summary.channels:
        lines.append("")
        lines.append(_("Scheduled channels where you moved lately:"))
        for channel in summary.channels:
            lines.append(f"• {channel_ref(channel.key)}: {schedule_line(channel, summary)}")
        if summary.has_more:
            more = summary.total_channels - len(summary.channels)
            lines.append(
                ngettext("…and {count} more channel.", "…and {count} more channels.", more).format(
                    count=more
                )
            )
    if summary.opted_out:
        lines.append("")
        lines.append(
            _("You're opted out: I don't store new breaks of yours. `/stretch optin` counts them.")
        )
    return lines


def reminders_line(summary: HomeSummary) -> str:
    """The person's own reminders by DM (`/stretch me`): their schedule and next one, or the
    offer to start them."""
    state = summary.reminders
    if state is None or state.spec is None or not state.enabled:
        return _(
            "*Reminders just for you:* I can message you every hour from 09:00 to 17:00 on "
            "weekdays, waiting while you're in Do Not Disturb, a huddle or a meeting "
            "(`/stretch me every 1h` to pick your own times)."
        )
    spec, now = state.spec, summary.now
    line = _("*Your reminders by direct message:* {schedule}.").format(schedule=spec.describe())
    upcoming = state.next_slot_at
    if upcoming is not None and upcoming > now:
        line += " " + _("Next: {when}.").format(when=when(upcoming, spec.tz, now))
    return line
