"""A failed return from Slack to the redirect URL, over real HTTP (issue 9, item 8): the page
shows our own words (never the `error` parameter's), the log quotes that value on one line, and
the state cookie is cleared whatever failed."""

from __future__ import annotations

import logging

import pytest

from tests.oauth.conftest import COOKIE, T1, OAuthBot

DELETION = f"{COOKIE}=deleted"
EPOCH = "expires=thu, 01 jan 1970 00:00:00 gmt"


@pytest.mark.parametrize(
    "error",
    [
        "Your workspace is compromised: call +1-555-0100 now",
        "<script>alert(1)</script>",
        "x\r\n2026-11-29 07:00:00Z INFO stretchbot.slack installed team=T0EVIL",
        "A" * 5000,
    ],
)
async def test_an_unknown_error_is_never_shown_and_logged_on_one_line(
    oauth_bot: OAuthBot, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    bot = oauth_bot
    caplog.set_level(logging.INFO, logger="stretchbot")
    _, cookie, state = await bot.start_install()

    page = await bot.finish_install(code=None, state=state, cookie=cookie, error=error)

    assert page.status == 200
    for words in ("compromised", "555", "script", "alert", "T0EVIL", "AAAA", "Slack reported"):
        assert words not in page.text
    assert "finish the installation. Start again below" in page.text
    assert "/slack/install" in page.text  # and a way to start again
    [line] = [r.getMessage() for r in caplog.records if "installation failed" in r.getMessage()]
    assert "\n" not in line and "\r" not in line
    assert len(line) < 200
    assert repr(error[:20])[:-1] in line  # quoted, control characters escaped
    assert DELETION in page.headers.get("Set-Cookie", "")


async def test_every_failure_clears_the_state_cookie(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    _, cookie, state = await bot.start_install()
    failures = [
        {"code": None, "state": state, "cookie": cookie, "error": "access_denied"},
        {"code": grid.install_code(T1), "state": state, "cookie": "another-browser"},
        {"code": grid.install_code(T1), "state": "forged", "cookie": "forged"},
        {"code": None, "state": state, "cookie": cookie},  # no code: consumes the state
        {"code": grid.install_code(T1), "state": state, "cookie": cookie},  # used up
    ]
    for attempt in failures:
        page = await bot.finish_install(**attempt)  # type: ignore[arg-type]
        assert 200 <= page.status < 500, (attempt, page.status)
        set_cookie = page.headers.get("Set-Cookie", "")
        # Bolt's own deletion cookie: the name, path and flags of the one it set.
        assert set_cookie.startswith(DELETION), (attempt, set_cookie)
        flags = set_cookie.lower()
        assert EPOCH in flags and "path=/" in flags and "httponly" in flags and "secure" in flags
    assert await bot.count("slack_bots") == 0


async def test_cancelling_shows_the_known_reason(oauth_bot: OAuthBot) -> None:
    _, cookie, state = await oauth_bot.start_install()
    page = await oauth_bot.finish_install(
        code=None, state=state, cookie=cookie, error="access_denied"
    )
    assert page.status == 200 and "You cancelled the installation" in page.text
