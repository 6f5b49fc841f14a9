"""The one error that stops the bot at start: a setting that does not work (a refused token, an
unreachable database, a port in use), with one line that says which and what to do."""

from __future__ import annotations


class StartupError(Exception):
    """The bot cannot start; the message is one line that says why and what to do."""
