"""Hostile command text against the parser (hypothesis): it never raises, answers fast, and no
reply it builds can carry markup into Slack."""

from __future__ import annotations

import gc
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import REGISTRY
from bot.commands.runner import parse_error_reply
from bot.commands.schedule import ScheduleCommand
from bot.grammar import ParseError
from handlers.slack.blocks import reply_text

WORDS = [
    *(name for word in REGISTRY.words for name in word.names),
    "every",
    "45m",
    "1h30m",
    "9am-5pm",
    "09:00-17:00",
    "weekdays",
    "mon-fri",
    "tz",
    "Europe/Berlin",
    "holidays",
    "US",
    "until",
    "monday",
    "on",
    "off",
    "me",
    "only",
    "weekly",
    "<!channel>",
    "<!here>",
    "<@U0BOSS>",
    "<https://evil.example|x>",
    "@here",
    "&amp;",
    "`",
    "```",
    "\u202e",  # right-to-left override
    "\u0000",
    "–",
    "９",  # fullwidth digit
]
SPECIALS = st.sampled_from(list("<>&@`|!#^*_~\\\"'\n\t\r\u2028\u200b\ufeff"))
hostile_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), SPECIALS, st.text(max_size=6)), max_size=20).map(
        "".join
    ),
    st.text(alphabet="0123456789hmd .:-,", min_size=100, max_size=500),  # regex stress
)


def full_reply(text: str) -> tuple[object, str | None]:
    """What the services answer for a parse error, as Slack would receive it."""
    command = REGISTRY.parse(text)
    if not isinstance(command, ParseError):
        return command, None
    return command, reply_text(parse_error_reply(command).text)


@settings(max_examples=600, deadline=None)
@given(hostile_text)
def test_parser_never_raises_and_is_deterministic(text: str) -> None:
    first = REGISTRY.parse(text)
    assert first == REGISTRY.parse(text)
    assert isinstance(first, ParseError) or hasattr(first, "run")


@settings(max_examples=600, deadline=None)
@given(hostile_text)
def test_error_replies_carry_no_markup(text: str) -> None:
    command, reply = full_reply(text)
    if reply is None:
        return
    assert isinstance(command, ParseError)
    assert "<" not in command.message and ">" not in command.message
    assert re.search(r"@(?!\u2060)", command.message) is None  # every @ is defused
    assert "<" not in reply.replace("&lt;", "").replace("&gt;", "")
    assert not re.search(r"@(channel|here|everyone)", reply)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=400, max_size=5000))
def test_long_input_is_answered_quickly(text: str) -> None:
    REGISTRY.parse("every 45m tz Europe/Berlin holidays US")  # warm the lookup caches
    # The parser's own CPU: a collection of the test process's whole heap (late in a full
    # suite run it took 0.3 s) must not land inside the measured call.
    gc.disable()
    try:
        started = time.process_time()  # CPU time: other processes on the machine do not count
        REGISTRY.parse(text)
        spent = time.process_time() - started
    finally:
        gc.enable()
    assert spent < 0.25


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS[:40]), min_size=1, max_size=8).map(" ".join))
def test_accepted_schedules_round_trip(text: str) -> None:
    command = REGISTRY.parse(text)
    if isinstance(command, ScheduleCommand):
        spec = command.to_spec("UTC")
        again = REGISTRY.parse(spec.to_text())
        assert isinstance(again, ScheduleCommand)
        assert again.to_spec("UTC") == spec
