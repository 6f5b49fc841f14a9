"""The README's worked example of adding a /stretch word stays true: its module, put in a
registry next to the real commands, parses, shows in help and answers."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

from bot.commands import REGISTRY
from bot.commands.registry import Registry
from bot.grammar import ParseError

README = Path(__file__).resolve().parents[2] / "README.md"


def example_module() -> types.ModuleType:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Adding a `/stretch` word", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[:1]
    module = types.ModuleType("bot.commands.ping")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


class _Call:
    async def who(self) -> str:
        return "<@U0001>"


async def test_the_readme_example_registers_and_answers() -> None:
    module = example_module()
    registry = Registry([*REGISTRY.words, *module.WORDS], default="now")
    command: Any = registry.parse("ping")
    assert not isinstance(command, ParseError)
    assert command.read_only and not command.changes_schedule
    reply = await command.run(_Call())
    assert reply.text == "Pong! I'm here, <@U0001>."
    typo = registry.parse("pnig")
    assert isinstance(typo, ParseError) and "Did you mean `ping`?" in typo.message
    assert "`/stretch ping`: check I'm here" in registry.help_lines()
    assert isinstance(registry.parse("ping now"), ParseError)
