"""The /stretch command registry: every command module is registered once, and the parser,
`help` and the usage lines all come from what the modules declare."""

from __future__ import annotations

import pkgutil

import pytest

import bot.commands
from bot.commands import COMMAND_MODULES, REGISTRY
from bot.commands.base import Word
from bot.commands.registry import Registry
from bot.grammar import Args, ParseError

NOT_COMMANDS = {"base", "keywords", "registry", "runner"}


def test_every_command_module_is_registered() -> None:
    modules = {
        info.name
        for info in pkgutil.iter_modules(bot.commands.__path__)
        if info.name not in NOT_COMMANDS
    }
    assert modules == set(COMMAND_MODULES)


def test_a_word_registered_twice_is_refused() -> None:
    def parse(args: Args) -> object:
        raise AssertionError("not called")

    word = Word(names=("twice",), usage="/stretch twice", help="", parse=parse)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="twice"):
        Registry([word, word], default="twice")


def test_help_lists_every_documented_word_in_registration_order() -> None:
    lines = REGISTRY.help_lines()
    documented = [word for word in REGISTRY.words if word.help]
    assert lines == [word.help for word in documented]
    assert lines[0].startswith("`/stretch` or `/stretch now`")


def test_the_general_usage_names_every_command() -> None:
    usage = REGISTRY.general_usage()
    for word in REGISTRY.words:
        assert (word.summary or word.name) in usage


@pytest.mark.parametrize(
    ("text", "read_only", "changes_schedule", "personal"),
    [
        ("", False, False, False),
        ("status", True, False, False),
        ("stats", True, False, True),
        ("help", True, False, False),
        ("admins-only", True, False, False),
        ("admins-only on", False, False, False),
        ("every 45m", False, True, False),
        ("pause 2h", False, True, False),
        ("resume", False, True, False),
        ("off", False, True, False),
        ("seated on", False, True, False),
        ("leaderboard", False, False, False),
        ("leaderboard weekly off", False, True, False),
        ("optout", False, False, False),
    ],
)
def test_each_command_declares_how_it_is_answered(
    text: str, read_only: bool, changes_schedule: bool, personal: bool
) -> None:
    command = REGISTRY.parse(text)
    assert not isinstance(command, ParseError), command
    assert (command.read_only, command.changes_schedule, command.personal) == (
        read_only,
        changes_schedule,
        personal,
    )


def test_aliases_reach_the_same_command() -> None:
    assert REGISTRY.parse("lb") == REGISTRY.parse("leaderboard")
    assert REGISTRY.parse("stop") == REGISTRY.parse("off")
    assert REGISTRY.parse("forget me") == REGISTRY.parse("forget-me")
