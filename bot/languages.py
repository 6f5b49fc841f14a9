"""Which language a text goes out in: what one person reads is in their own locale (Slack's
`users.info` locale, the Teams activity's), what a channel reads in the channel's language
(`/stretch language`, else the language of whoever set its schedule, else English).

The platforms set the person's locale once per request at their edge (`bot.i18n.use_locale`);
the command runner and the scheduled jobs switch to the channel's language for what they post
there. Nothing passes a locale through the functions in between.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from bot.i18n import LANGUAGES, supported_locale
from bot.ports import ChannelState


@runtime_checkable
class KnowsLocales(Protocol):
    """A chat platform that can tell a person's locale (Slack: `users.info`, include_locale)."""

    async def user_locale(self, team_id: str, user_id: str) -> str | None:
        """The person's catalog locale ('de', 'pt_BR'), None when unknown or not one we have."""
        ...


def channel_language(state: ChannelState | None, person: str | None = None) -> str | None:
    """The language of texts to the channel: its own, else `person`'s (who is acting)."""
    if state is not None and state.language in LANGUAGES:
        return state.language
    return person


class LocaleCache:
    """People's locales for a while (an hour by default): a locale rarely changes, and every
    command would otherwise cost a `users.info` call. Failures are not kept."""

    def __init__(self, ttl_seconds: float = 3600.0, max_entries: int = 50_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, str | None]] = {}

    def get(self, team_id: str, user_id: str) -> tuple[bool, str | None]:
        """(known, locale): known is False when nothing fresh is kept."""
        entry = self._entries.get((team_id, user_id))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, team_id: str, user_id: str, platform_locale: object) -> str | None:
        """Keep the person's locale as the platform said it ('de-DE'); returns the catalog
        locale."""
        locale = supported_locale(platform_locale) if isinstance(platform_locale, str) else None
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a crude bound: the next commands fetch again
        self._entries[(team_id, user_id)] = (time.monotonic() + self.ttl, locale)
        return locale
