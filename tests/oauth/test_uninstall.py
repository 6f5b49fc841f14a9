"""Uninstall stops one workspace at once and purges it after the retention period; a
reinstall within the period brings it back with its history. The other workspace runs on."""

from __future__ import annotations

from datetime import timedelta

from bot.ports import ChannelKey, PostError
from bot.workspaces import UNINSTALLED_REASON
from handlers.slack.chat import SlackChat
from handlers.slack.tokens import BotTokens
from storage.installations import EncryptedInstallationStore, TokenCipher
from tests.oauth.conftest import CLIENT_ID, T1, T2, OAuthBot, settle
from tests.oauth.test_workspaces import FIRST_SLOT, post_due, two_scheduled_workspaces

E1, T3, T4 = "E0001", "T0003", "T0004"


def key(team: str) -> ChannelKey:
    return ChannelKey("slack", team, "C0001")


async def history(bot: OAuthBot, team: str) -> tuple[int, int, int]:
    where = "channel_pk IN (SELECT id FROM channels WHERE team_id = :t)"
    return (
        await bot.count("channels", "team_id = :t", t=team),
        await bot.count("nudges", where, t=team),
        await bot.count("breaks", where, t=team),
    )


async def test_uninstall_stops_at_once_reinstall_restores_and_retention_purges(
    oauth_bot: OAuthBot,
) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    await two_scheduled_workspaces(bot)
    await post_due(bot, FIRST_SLOT + timedelta(seconds=5))
    await bot.react(T1, ts=grid.posts_in(T1)[0]["ts"])
    await settle(lambda: _breaks(bot, T1), "the break in T1")
    first_token = grid.token_of(T1)

    uninstalled_at = bot.clock.now
    await bot.uninstall(T1)

    # Tokens are gone at once, T2's stay; the workspace is marked; its schedule is off, kept.
    assert await bot.count("slack_bots", "team_id = :t", t=T1) == 0
    assert await bot.count("slack_installations", "team_id = :t", t=T1) == 0
    assert await bot.count("slack_bots", "team_id = :t", t=T2) == 1
    workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=T1)
    assert not workspace.installed and workspace.uninstalled_at == uninstalled_at
    [(enabled, reason, interval)] = await bot.rows(
        "SELECT enabled, disabled_reason, interval_minutes FROM channels WHERE team_id = :t", t=T1
    )
    assert (bool(enabled), reason, interval) == (False, UNINSTALLED_REASON, 45)

    # The next slot: only T2 posts; nothing is even tried with T1's old token.
    calls_before = len(grid.calls_in(T1, "chat.postMessage"))
    assert await post_due(bot, FIRST_SLOT + timedelta(minutes=45, seconds=5)) == [f"{T2}:posted"]
    assert len(grid.calls_in(T1, "chat.postMessage")) == calls_before
    # A command from the uninstalled workspace is not authorized: nothing changes.
    await bot.command(T1, "every 30m")
    assert (await bot.services.storage.channels.get(key(T1))).spec.interval == timedelta(minutes=45)

    # Reinstall within the retention period: active again, schedule back, history intact.
    bot.clock.advance(days=10)
    await bot.install(T1)
    workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=T1)
    assert workspace.installed and workspace.uninstalled_at is None
    state = await bot.services.storage.channels.get(key(T1))
    assert state.enabled and state.next_slot_at is not None and state.next_slot_at > bot.clock.now
    assert await history(bot, T1) == (1, 1, 1)
    assert await bot.breaks(T1) == {"U0001": 1}
    assert f"{T1}:posted" in await post_due(bot, state.next_slot_at + timedelta(seconds=1))
    newest = grid.calls_in(T1, "chat.postMessage")[-1]
    assert newest.token == grid.token_of(T1) != first_token

    # Uninstalled again: kept for DATA_RETENTION_DAYS (30), then purged; T2 untouched.
    bot.clock.advance(days=1)
    await bot.uninstall(T1)
    t2_before = await history(bot, T2)
    bot.clock.advance(days=29)
    assert await bot.services.installs.purge_expired(bot.clock.now) == []
    assert await history(bot, T1) == (1, 2, 1)
    bot.clock.advance(days=1, seconds=1)
    [report] = await bot.services.installs.purge_expired(bot.clock.now)
    assert (report.team_id, report.channels, report.nudges, report.breaks) == (T1, 1, 2, 1)
    assert await history(bot, T1) == (0, 0, 0)
    for table in ("workspaces", "people", "cooldowns", "slack_bots", "slack_installations"):
        assert await bot.count(table, "team_id = :t", t=T1) == 0, table
    assert await history(bot, T2) == t2_before
    assert await bot.count("slack_bots", "team_id = :t", t=T2) == 1


async def test_a_revoked_token_fails_the_post_once_without_retries(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    await two_scheduled_workspaces(bot)
    revoked = grid.token_of(T1)
    grid.revoked_tokens.add(revoked)  # revoked, and the event got lost
    outcomes = await bot.services.nudging.run_due_nudges(FIRST_SLOT + timedelta(seconds=5))
    by_team = {o.channel.team_id: o for o in outcomes}
    assert by_team[T1].decision == "failed" and by_team[T1].detail == "token_revoked"
    assert by_team[T2].decision == "posted"
    tried = [
        c
        for c in grid.calls_to("chat.postMessage")
        if c.token == revoked and c.params["channel"] == "C0001"  # not the installer's hello
    ]
    assert [c.response["error"] for c in tried] == ["token_revoked"]  # once, no retries


async def test_no_token_means_auth_error_without_calling_slack(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    store = EncryptedInstallationStore(
        client_id=CLIENT_ID, engine=bot.runtime.engine, cipher=TokenCipher()
    )
    chat = SlackChat(BotTokens(store, None, base_url=grid.api_url).client_for)
    result = await chat.post_text(key(T2), "hello")
    assert (result.error, result.detail) == (PostError.AUTH, "not_installed")
    assert grid.calls == []


async def test_org_wide_install_serves_every_workspace_of_the_org(
    oauth_bot: OAuthBot,
) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    grid.add_workspace(T3, name="Initech East", enterprise_id=E1)
    grid.add_workspace(T4, name="Initech West", enterprise_id=E1)
    page = await bot.install_org(E1)
    assert "Add it to workspaces" in page.text and f"/manage/{E1}/" in page.text
    [(team, enterprise, org_wide, token)] = await bot.rows(
        "SELECT team_id, enterprise_id, is_enterprise_install, bot_token FROM slack_bots"
    )
    assert (team, enterprise, bool(org_wide)) == (None, E1, True)
    assert token.startswith("fernet:")

    for team in (T3, T4):
        reply = await bot.command(team, "every 45m", enterprise_id=E1, org_wide=True)
        assert reply is not None and "scheduled movement breaks" in reply["text"], reply
        workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=team)
        assert workspace.enterprise_id == E1
    assert sorted(await post_due(bot, FIRST_SLOT + timedelta(seconds=5))) == [
        f"{T3}:posted",
        f"{T4}:posted",
    ]
    for team in (T3, T4):
        [post] = [c for c in grid.calls_in(team, "chat.postMessage") if c.response.get("ok")]
        assert post.params["team_id"] == team  # an org token names the workspace it acts on
        assert post.token.startswith("xoxb-e0001-org-")

    await bot.uninstall(None, enterprise_id=E1, org_wide=True)
    assert await bot.count("slack_bots") == 0
    for team in (T3, T4):
        workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=team)
        assert not workspace.installed
    assert await post_due(bot, FIRST_SLOT + timedelta(minutes=45, seconds=5)) == []

    await bot.install_org(E1)  # back again: both workspaces restart
    for team in (T3, T4):
        assert (await bot.services.storage.channels.get(key(team))).enabled


async def test_tokens_revoked_for_users_only_keeps_the_workspace(oauth_bot: OAuthBot) -> None:
    from tests.fakes import slack_payloads as payloads

    bot = oauth_bot
    await bot.install(T1)
    await bot.event(T1, payloads.tokens_revoked_event(oauth=["U0001"]))

    async def user_install_gone() -> bool:
        return await bot.count("slack_installations", "team_id = :t", t=T1) == 0

    await settle(user_install_gone, "the installer's user installation to be deleted")
    workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=T1)
    assert workspace.installed
    assert await bot.count("slack_bots", "team_id = :t", t=T1) == 1
    assert await bot.command(T1, "status") is not None  # and it still works


async def _breaks(bot: OAuthBot, team: str) -> bool:
    return bool(await bot.breaks(team))


async def test_the_daily_job_purges_expired_workspaces(oauth_bot: OAuthBot) -> None:
    from bot.scheduler import PURGE_EVERY, PURGE_JOB_ID

    bot = oauth_bot
    await bot.install(T1)
    await bot.command(T1, "every 45m")
    await bot.uninstall(T1)
    scheduler = bot.runtime.scheduler
    scheduler.start()
    try:
        job = scheduler._scheduler.get_job(PURGE_JOB_ID)
        assert job is not None and job.trigger.interval == PURGE_EVERY
    finally:
        await scheduler.stop()
    await scheduler.purge()  # what the job runs: within the retention period, nothing goes
    assert await bot.count("channels", "team_id = :t", t=T1) == 1
    bot.clock.advance(days=30, seconds=1)
    await scheduler.purge()
    assert await bot.count("channels", "team_id = :t", t=T1) == 0
    assert await bot.count("workspaces") == 0
