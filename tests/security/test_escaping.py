"""Whatever a person types can never ping @channel/@here, mention someone or make a link when
the bot echoes it back; only the mentions the bot writes itself stay mentions."""

from __future__ import annotations

import re

import pytest

from handlers.slack.blocks import reply_text
from tests.scenario.conftest import BotDriver

MARKUP = re.compile(r"<[!@#]|<https?:|<mailto:", re.IGNORECASE)

HOSTILE = [
    "<!channel>",
    "<!here> now",
    "<!everyone>",
    "every <!subteam^S123|@team>",
    "every 45m <https://evil.example|click here>",
    "pause until <@U0BOSS>",
    "<@U0BOSS|boss> status",
    "leaderboard <#C0SECRET|secret>",
    "every 45m tz <!date^1392734382^{date}|x>",
    "&lt;!channel&gt;",
    "@channel please",
    "every @here",
    "seated <mailto:a@b.c|mail>",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_echoed_command_text_is_inert(bot: BotDriver, text: str) -> None:
    reply = await bot.command(text)
    assert reply is not None
    shown = reply["text"]
    assert not MARKUP.search(shown), shown
    assert not re.search(r"@(channel|here|everyone)\b", shown), shown
    assert bot.slack.calls_to("chat.postMessage") == []  # nothing was posted in the channel


async def test_public_replies_mention_only_the_person_who_typed(bot: BotDriver) -> None:
    reply = await bot.command("every 45m")
    assert reply is not None and reply["response_type"] == "in_channel"
    markup = re.findall(r"<[^>]*>", reply["text"])
    # The one mention is the person who typed it; the rest are dates (they never ping).
    assert markup[0] == "<@U0001>"
    assert all(re.fullmatch(r"<!date\^\d+\^[^|]*\|[^<>]*>", m) for m in markup[1:]), markup


def test_reply_text_keeps_only_well_formed_date_tokens() -> None:
    token = "<!date^1795423500^{date_short_pretty} {time}|today 09:45 CET>"
    assert reply_text(f"First nudge: {token}.") == f"First nudge: {token}."
    assert reply_text("<!date^1^{date_short_pretty} {time}|<!channel>>") == (
        "&lt;!date^1^{date_short_pretty} {time}|&lt;!channel&gt;&gt;"
    )
    assert reply_text("<!date^1^{date} {time}^https://x|y>").startswith("&lt;!date")


def test_reply_text_keeps_only_well_formed_user_mentions() -> None:
    assert reply_text("<@U0001> paused breaks") == "<@U0001> paused breaks"
    assert reply_text("<@W0ABC>: hi") == "<@W0ABC>: hi"
    assert reply_text("<!channel> & <@U1|name> <http://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U1|name&gt; &lt;http://x|y&gt;"
    )
    assert reply_text("<@<!here>>") == "&lt;@&lt;!here&gt;&gt;"
