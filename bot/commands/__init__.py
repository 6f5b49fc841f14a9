"""The /stretch commands: one module per command (or small family) declaring its words, grammar,
handler, privacy and help line, registered here in the order `help` lists them.

To add a command: write `bot/commands/<name>.py` with a `WORDS` list (see `now.py`), then add its
module name below.
"""

from __future__ import annotations

from bot.commands.registry import Registry

COMMAND_MODULES = (
    "now",
    "schedule",
    "settings",
    "status",
    "pausing",
    "skip",
    "leaderboard",
    "together",
    "goal",
    "freezes",
    "seated",
    "exercises",
    "language",
    "stats",
    "me",
    "privacy",
    "admins_only",
    "help",
)

REGISTRY = Registry.load(COMMAND_MODULES, default="now")
