"""One structured log line per decision the bot takes about a channel (a nudge posted or skipped,
a schedule changed, a break logged): `event platform=.. team=.. channel=.. key=value ...`."""

from __future__ import annotations

import logging

from bot.ports import ChannelKey

logger = logging.getLogger("stretchbot.services")


def log_decision(event: str, channel: ChannelKey, **fields: object) -> None:
    """Log `event` for `channel` with `fields` as `key=value` pairs."""
    extra = " ".join(f"{k}={v}" for k, v in fields.items())
    logger.info(
        "%s platform=%s team=%s channel=%s %s",
        event,
        channel.platform,
        channel.team_id,
        channel.channel_id,
        extra,
    )
