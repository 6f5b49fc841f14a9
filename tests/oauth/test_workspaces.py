"""Two workspaces side by side in one process, each with its own token, and nothing shared.

Both workspaces have a channel C0001 and a person U0001, and their fake Slacks hand out the same
message timestamps: any query not scoped by workspace would mix them up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ports import ChannelKey
from tests.oauth.conftest import T1, T2, OAuthBot, settle
from tests.scenario.conftest import blocks_text

FIRST_SLOT = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)  # Monday 09:45 in Berlin


def key(team: str, channel: str = "C0001") -> ChannelKey:
    return ChannelKey("slack", team, channel)


async def two_scheduled_workspaces(bot: OAuthBot) -> None:
    for team in (T1, T2):
        await bot.install(team)
        reply = await bot.command(team, "every 45m 09:00-17:00 weekdays")
        assert reply is not None and "scheduled movement breaks" in reply["text"], reply


async def post_due(bot: OAuthBot, at: datetime) -> list[str]:
    bot.clock.set(at)
    return [
        f"{o.channel.team_id}:{o.decision}" for o in await bot.services.nudging.run_due_nudges(at)
    ]


async def test_two_workspaces_post_with_their_own_tokens(oauth_bot: OAuthBot) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    await two_scheduled_workspaces(bot)

    assert sorted(await post_due(bot, FIRST_SLOT + timedelta(seconds=5))) == [
        f"{T1}:posted",
        f"{T2}:posted",
    ]
    for team in (T1, T2):
        posts = grid.calls_in(team, "chat.postMessage")
        [post] = [c for c in posts if c.response.get("ok") and c.params["channel"] == "C0001"]
        assert post.token == grid.token_of(team)
        assert len(grid.posts_in(team)) == 1
    assert grid.token_of(T1) != grid.token_of(T2)
    # Same channel id, same message ts in both workspaces: the collision the rest relies on.
    assert grid.posts_in(T1)[0]["ts"] == grid.posts_in(T2)[0]["ts"]


async def test_nothing_of_one_workspace_is_visible_to_or_changeable_from_the_other(
    oauth_bot: OAuthBot,
) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    await two_scheduled_workspaces(bot)
    await post_due(bot, FIRST_SLOT + timedelta(seconds=5))
    ts = grid.posts_in(T1)[0]["ts"]

    # Reactions: a ✅ in T1 counts in T1 only, though T2 has a nudge with the same ts.
    await bot.react(T1, ts=ts)
    await settle(lambda: _breaks_are(bot, T1, {"U0001": 1}), "the break in T1")
    assert await bot.breaks(T2) == {}

    # Leaderboards and stats.
    await bot.command(T1, "leaderboard", wait_reply=False)
    await settle(lambda: _has_board(bot, T1), "T1's board")
    assert "<@U0001> 1 break" in blocks_text(grid.posts_in(T1)[-1])
    empty = await bot.command(T2, "leaderboard")
    assert empty is not None and "No breaks logged here" in empty["text"]
    assert len(grid.posts_in(T2)) == 1  # only the nudge: no board
    stats_t2 = await bot.command(T2, "stats")
    assert stats_t2 is not None and "0 breaks in all" in stats_t2["text"]
    stats_t1 = await bot.command(T1, "stats")
    assert stats_t1 is not None and "1 break in all" in stats_t1["text"]

    # Schedules: turning T2 off leaves T1 running.
    await bot.command(T2, "off")
    t1_state = await bot.services.storage.channels.get(key(T1))
    t2_state = await bot.services.storage.channels.get(key(T2))
    assert t1_state.enabled and not t2_state.enabled
    assert await post_due(bot, FIRST_SLOT + timedelta(minutes=45, seconds=5)) == [f"{T1}:posted"]

    # Forget-me and opt-out are per workspace.
    forgot = await bot.command(T2, "forget-me confirm")
    assert forgot is not None and "no breaks stored" in forgot["text"]
    assert await bot.breaks(T1) == {"U0001": 1}
    await bot.command(T2, "optout")
    await bot.react(T1, ts=grid.posts_in(T1)[-1]["ts"])  # U0001 is opted out in T2 only
    await settle(lambda: _breaks_are(bot, T1, {"U0001": 2}), "the second break in T1")
    forgot = await bot.command(T1, "forget-me confirm")
    assert forgot is not None and "deleted your 2 breaks" in forgot["text"]
    assert await bot.breaks(T1) == {}

    # Admins-only in T1 does not restrict T2.
    grid.workspaces[T1].set_user("U0009", is_admin=True)
    done = await bot.command(T1, "admins-only on", user="U0009")
    assert done is not None and "only workspace admins" in done["text"]
    refused = await bot.command(T1, "every 30m")
    assert refused is not None and "Only workspace admins" in refused["text"]
    allowed = await bot.command(T2, "every 30m")
    assert allowed is not None and "scheduled movement breaks" in allowed["text"]


async def test_the_same_nudge_ts_in_another_workspace_is_not_a_nudge_here(
    oauth_bot: OAuthBot,
) -> None:
    bot, grid = oauth_bot, oauth_bot.grid
    await bot.install(T1)
    await bot.install(T2)
    await bot.command(T1, "now", wait_reply=False)
    await settle(lambda: _posted(bot, T1), "a nudge in T1")
    ts = grid.posts_in(T1)[0]["ts"]
    await bot.react(T2, ts=ts)  # T2 has no nudge at all: nothing may count anywhere
    await bot.react(T1, ts=ts)
    await settle(lambda: _breaks_are(bot, T1, {"U0001": 1}), "the break in T1")
    assert await bot.breaks(T2) == {}
    assert await bot.count("breaks") == 1


async def _breaks_are(bot: OAuthBot, team: str, expected: dict[str, int]) -> bool:
    return await bot.breaks(team) == expected


async def _has_board(bot: OAuthBot, team: str) -> bool:
    return any("leaderboard" in (m.get("text") or "") for m in bot.grid.posts_in(team))


async def _posted(bot: OAuthBot, team: str) -> bool:
    return bool(bot.grid.posts_in(team))
