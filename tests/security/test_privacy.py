"""People's choices (`optout`, `optin`, `forget-me`) and the admins' export and purge commands."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from bot import cli
from tests.fakes import slack_payloads as payloads
from tests.scenario.conftest import TEAM, BotDriver, blocks_text, eventually, key
from tests.security.conftest import StartBot


@pytest.fixture
async def bot(start_bot: StartBot) -> BotDriver:
    return await start_bot(NOW_COOLDOWN_MINUTES=0, COMMANDS_PER_MINUTE=100)


async def nudge(bot: BotDriver) -> str:
    before = len(bot.posts())
    await bot.command("now", wait_reply=False)

    async def stored() -> str | None:
        if len(bot.posts()) <= before:
            return None
        ts = str(bot.posts()[-1]["ts"])
        found = await bot.services.storage.nudges.find_by_message(channel=key(), message_id=ts)
        return ts if found else None

    return str(await eventually(stored, what="a stored nudge"))


async def breaks_become(bot: BotDriver, expected: dict[str, int]) -> None:
    async def matches() -> bool:
        return await bot.breaks() == expected

    await eventually(matches, what=f"breaks == {expected}")


async def board_text(bot: BotDriver) -> str:
    before = len(bot.posts())
    await bot.command("leaderboard", wait_reply=False)

    async def posted() -> bool:
        return len(bot.posts()) > before

    await eventually(posted, what="a leaderboard")
    return blocks_text(bot.posts()[-1])


async def test_optout_stops_storing_mentions_and_boards_optin_brings_back(bot: BotDriver) -> None:
    first = await nudge(bot)
    await bot.react(user="U0001", ts=first)
    await bot.react(user="U0002", ts=first)
    await breaks_become(bot, {"U0001": 1, "U0002": 1})

    reply = await bot.command("optout")
    assert reply is not None and "opted out" in reply["text"]
    assert reply["response_type"] == "ephemeral"

    second = await nudge(bot)
    await bot.react(user="U0001", ts=second)
    pressed = await bot.press_done(user="U0001", ts=second)
    assert "opted out" in pressed["text"]
    await bot.react(user="U0002", ts=second)
    await breaks_become(bot, {"U0001": 1, "U0002": 2})  # U0001's new break was not stored
    board = await board_text(bot)
    assert "<@U0002> 2 breaks" in board and "U0001" not in board
    assert await bot.breaks() == {"U0001": 1, "U0002": 2}  # still: everything has settled

    scheduled = await bot.command("every 45m")  # a public reply: no mention of them
    assert scheduled is not None and scheduled["response_type"] == "in_channel"
    assert "<@U0001>" not in scheduled["text"] and scheduled["text"].startswith("Someone ")
    seated = await bot.command("seated on")
    assert seated is not None and "<@U0001>" not in seated["text"]

    back = await bot.command("optin")
    assert back is not None and "Welcome back" in back["text"]
    await bot.react(user="U0001", ts=second)
    await breaks_become(bot, {"U0001": 2, "U0002": 2})
    assert "<@U0001> 2 breaks" in await board_text(bot)


async def test_forget_me_deletes_only_my_breaks_and_says_how_many(bot: BotDriver) -> None:
    await bot.command("every 45m")
    for _ in range(2):
        ts = await nudge(bot)
        await bot.react(user="U0001", ts=ts)
        await bot.react(user="U0001", ts=ts, reaction="heavy_check_mark")
        await bot.react(user="U0002", ts=ts)
    await breaks_become(bot, {"U0001": 2, "U0002": 2})

    async def all_marks_in() -> bool:  # events are processed after the ack, in any order
        async with bot.runtime.engine.connect() as conn:
            count = await conn.exec_driver_sql(
                "SELECT count(*) FROM break_marks WHERE person_id = 'U0001'"
            )
            return bool(count.scalar_one() == 4)

    await eventually(all_marks_in, what="both of U0001's marks on both nudges")

    asked = await bot.command("forget-me")  # asks first, deletes nothing yet
    assert asked is not None and "Sure?" in asked["text"]
    [button] = asked["blocks"][-1]["elements"]
    assert button["value"] == "forget-me confirm" and button["style"] == "danger"
    assert await bot.breaks() == {"U0001": 2, "U0002": 2}
    reply = await bot.command("forget-me confirm")
    assert reply is not None and "deleted your 2 breaks" in reply["text"]
    assert await bot.breaks() == {"U0002": 2}
    async with bot.runtime.engine.connect() as conn:
        marks = (
            await conn.exec_driver_sql("SELECT count(*) FROM break_marks WHERE person_id = 'U0001'")
        ).scalar_one()
        updated_by = (
            await conn.exec_driver_sql("SELECT updated_by FROM channels WHERE channel_id='C0001'")
        ).scalar_one()
    assert marks == 0 and updated_by is None
    again = await bot.command("forget-me confirm")
    assert again is not None and "no breaks stored" in again["text"]


async def test_forget_me_is_confirmed_with_its_button(bot: BotDriver) -> None:
    await bot.command("every 45m")
    ts = await nudge(bot)
    await bot.react(user="U0001", ts=ts)
    await breaks_become(bot, {"U0001": 1})
    asked = await bot.command("forget-me")
    assert asked is not None
    [button] = asked["blocks"][-1]["elements"]
    body = payloads.block_actions_body(
        action_id=button["action_id"],
        value=button["value"],
        user_id="U0001",
        channel_id="C0001",
        message_ts=ts,
        team_id=TEAM,
        response_url=bot.slack.response_url("confirmed"),
        ephemeral=True,  # the question went to the asker only
    )
    assert (await bot.post(body)).status == 200
    answer = await bot.response("confirmed")
    assert "deleted your 1 break" in answer["text"]
    assert answer["replace_original"] is True  # the question is replaced by its answer
    assert await bot.breaks() == {}


async def test_a_button_on_a_message_everyone_sees_never_replaces_it(bot: BotDriver) -> None:
    ts = await nudge(bot)
    body = payloads.block_actions_body(
        action_id="stretch_run_0",
        value="stats",
        user_id="U0001",
        channel_id="C0001",
        message_ts=ts,
        team_id=TEAM,
        response_url=bot.slack.response_url("public-button"),
    )
    assert (await bot.post(body)).status == 200
    answer = await bot.response("public-button")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False


async def test_export_and_purge_commands(
    bot: BotDriver, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_user = '=HYPERLINK("https://evil.example")'
    await bot.command("every 45m")
    # The edge refuses such ids now (tests/security/test_id_shapes.py); a row from before
    # that still must not become a formula in an admin's spreadsheet.
    async with bot.runtime.engine.begin() as conn:
        await conn.exec_driver_sql(
            "UPDATE channels SET updated_by = ? WHERE channel_id = 'C0001'", (hostile_user,)
        )
    ts = await nudge(bot)
    await bot.react(user="U0001", ts=ts)
    await breaks_become(bot, {"U0001": 1})

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    def run(*args: str) -> int:
        return cli.main(list(args))

    out = work / "acme"
    assert await asyncio.to_thread(run, "export", "--team", TEAM, "--out", str(out)) == 0
    tables = {
        name: list(csv.reader((out / f"{name}.csv").open(encoding="utf-8")))
        for name in ("channels", "nudges", "breaks")
    }
    channels, nudges, breaks = tables["channels"], tables["nudges"], tables["breaks"]
    assert channels[0][:2] == ["channel_id", "schedule"]
    assert channels[1][0] == "C0001" and channels[1][1].startswith("every 45m 09:00-17:00")
    assert channels[1][channels[0].index("updated_by")] == "'" + hostile_user  # no formula
    assert len(nudges) == 2 and nudges[1][nudges[0].index("message_id")] == ts
    assert [row[breaks[0].index("person_id")] for row in breaks[1:]] == ["U0001"]
    assert await asyncio.to_thread(run, "export", "--team", "T9999") == 1  # nothing there

    assert await asyncio.to_thread(run, "purge", "--team", TEAM) == 2  # still installed
    await bot.event(payloads.app_uninstalled_event())

    async def uninstalled() -> bool:
        workspace = await bot.services.tenancy.workspaces.get(platform="slack", team_id=TEAM)
        return workspace is not None and not workspace.installed

    await eventually(uninstalled, what="the uninstall")
    assert not (await bot.services.storage.channels.get(key())).enabled
    assert await asyncio.to_thread(run, "purge") == 0  # within DATA_RETENTION_DAYS: kept
    assert await bot.breaks() == {"U0001": 1}
    assert await asyncio.to_thread(run, "purge", "--team", TEAM) == 0  # on demand
    assert await bot.breaks() == {}
    assert await bot.services.storage.channels.get(key()) is None
