"""Install from a link: GET /slack/install -> Slack's consent screen -> GET /slack/oauth_redirect.

The real Bolt OAuth flow runs against the fake Slack (`oauth.v2.access` included); the state is
checked against both the database and the browser's cookie; tokens land encrypted.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from handlers.slack.oauth import BOT_SCOPES
from tests.oauth.conftest import CLIENT_ID, CLIENT_SECRET, COOKIE, T1, T2, OAuthBot, settle


async def test_install_round_trip_saves_encrypted_tokens_and_says_what_next(
    oauth_bot: OAuthBot,
) -> None:
    bot, grid = oauth_bot, oauth_bot.grid

    page, cookie, state = await bot.start_install()
    assert page.status == 302
    location = urlsplit(page.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "slack.com",
        "/oauth/v2/authorize",
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [",".join(BOT_SCOPES)]
    assert state and cookie == state  # the browser carries the state it was sent off with
    set_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie
    assert await bot.count("slack_oauth_states") == 1

    code = grid.install_code(T1)
    done = await bot.finish_install(code=code, state=state, cookie=cookie)

    assert done.status == 200, done.text
    assert "Acme" in done.text and "/stretch every 45m" in done.text
    assert "/invite @stretchbot" in done.text
    assert f"{COOKIE}=deleted" in done.headers.get("Set-Cookie", "")
    assert done.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in done.headers["Content-Security-Policy"]
    [exchange] = grid.calls_to("oauth.v2.access")
    assert exchange.params["code"] == code
    assert exchange.params["client_id"] == CLIENT_ID
    assert exchange.params["client_secret"] == CLIENT_SECRET
    assert await bot.count("slack_oauth_states") == 0  # one use only

    token = grid.token_of(T1)
    [(stored_bot, stored_install)] = await bot.rows(
        "SELECT b.bot_token, i.bot_token FROM slack_bots b JOIN slack_installations i"
        " ON i.team_id = b.team_id WHERE b.team_id = :t",
        t=T1,
    )
    assert stored_bot.startswith("fernet:") and stored_install.startswith("fernet:")
    assert token not in stored_bot and token not in stored_install
    workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=T1)
    assert workspace is not None and workspace.installed

    # The bot now works in that workspace with that token.
    reply = await bot.command(T1, "now", wait_reply=False)
    assert reply is None
    await settle(lambda: _posted(bot, T1), "a nudge in T0001")
    assert {c.token for c in grid.calls_in(T1, "chat.postMessage")} == {token}


async def _posted(bot: OAuthBot, team: str) -> bool:
    return bool(bot.grid.posts_in(team))


async def test_wrong_or_missing_state_cookie_saves_nothing(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    _, cookie, state = await bot.start_install()
    attempts = [
        {"cookie": "someone-elses-state", "state": state},  # another browser's link
        {"cookie": None, "state": state},  # no cookie at all
        {"cookie": cookie, "state": "forged-state"},  # a state we never issued
        {"cookie": cookie, "state": None},
    ]
    for attempt in attempts:
        page = await bot.finish_install(code=grid.install_code(T1), **attempt)
        assert 400 <= page.status < 500, (attempt, page.status)
        assert "Add stretchbot to Slack" in page.text  # and a way to start again
        assert "/slack/install" in page.text
    assert grid.calls_to("oauth.v2.access") == []
    for table in ("slack_installations", "slack_bots", "workspaces"):
        assert await bot.count(table) == 0, table
    # The real state still works afterwards (a failed attempt with a wrong cookie left it).
    page = await bot.finish_install(code=grid.install_code(T1), state=state, cookie=cookie)
    assert page.status == 200, page.text


async def test_a_state_works_once(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    _, cookie, state = await bot.start_install()
    assert (
        await bot.finish_install(code=grid.install_code(T1), state=state, cookie=cookie)
    ).status == 200
    replay = await bot.finish_install(code=grid.install_code(T2), state=state, cookie=cookie)
    assert replay.status == 401 and "only once" in replay.text
    assert await bot.count("slack_bots", "team_id = :t", t=T2) == 0


async def test_cancelled_refused_and_hostile_callbacks(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    _, cookie, state = await bot.start_install()
    cancelled = await bot.finish_install(
        code=None, state=state, cookie=cookie, error="access_denied"
    )
    assert cancelled.status == 200 and "cancelled" in cancelled.text

    hostile = await bot.finish_install(
        code=None, state=state, cookie=cookie, error="<script>alert(1)</script>"
    )
    assert "script" not in hostile.text and "alert" not in hostile.text  # never echoed

    refused = await bot.finish_install(code="not-a-code", state=state, cookie=cookie)
    assert refused.status == 401 and "confirm the installation" in refused.text
    assert await bot.count("slack_bots") == 0


async def test_team_hint_cannot_inject_into_the_authorize_url(oauth_bot: OAuthBot) -> None:
    page, _, _ = await oauth_bot.start_install("?team=T0002")
    assert parse_qs(urlsplit(page.headers["Location"]).query)["team"] == ["T0002"]
    page, _, _ = await oauth_bot.start_install(
        "?team=T1%26redirect_uri%3Dhttps%3A%2F%2Fevil.example"
    )
    location = page.headers["Location"]
    assert "evil" not in location and "redirect_uri" not in location and "team=" not in location


async def test_authorize_host_and_redirect_uri_are_configurable(start_oauth_bot) -> None:  # type: ignore[no-untyped-def]
    bot = await start_oauth_bot(
        SLACK_AUTHORIZE_URL="https://slack-gov.com/oauth/v2/authorize",
        SLACK_REDIRECT_URI="https://bot.example.com/slack/oauth_redirect",
    )
    page, cookie, state = await bot.start_install()
    location = urlsplit(page.headers["Location"])
    assert location.netloc == "slack-gov.com"
    assert parse_qs(location.query)["redirect_uri"] == [
        "https://bot.example.com/slack/oauth_redirect"
    ]
    await bot.finish_install(code=bot.grid.install_code(T1), state=state, cookie=cookie)
    [exchange] = bot.grid.calls_to("oauth.v2.access")
    assert exchange.params["redirect_uri"] == "https://bot.example.com/slack/oauth_redirect"


async def test_authorization_is_cached_per_token(oauth_bot: OAuthBot) -> None:
    """Not every request costs an auth.test: Bolt's authorize cache keeps each token's."""
    bot, grid = oauth_bot, oauth_bot.grid
    await bot.install(T1)
    before = len(grid.calls_in(T1, "auth.test"))  # the install's own check of the new token
    for _ in range(4):
        await bot.command(T1, "status")
    assert len(grid.calls_in(T1, "auth.test")) - before == 1


async def test_a_workspace_that_never_installed_gets_nothing_done(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    reply = await bot.command(T2, "every 45m")
    assert reply is not None and "every 45m" not in reply.get("text", "")
    assert grid.calls_in(T2, "chat.postMessage") == []
    assert await bot.count("channels") == 0
