"""Nudges that show who moved, and the nudge's own menu, against the fake Slack over HTTP.

After ✅ reactions, their removal and Done presses the nudge is edited in place (`chat.update`,
same ts) with the count and the people so far; edits per message are coalesced; a 429 is
honoured; opted-out people are counted, never named. The nudge's overflow gives a seated
version (only to the presser), skips the channel's next nudge (seen in `status`) and pauses
the channel for today, through the same commands and `admins-only` rule as typed words.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from tests.fakes import slack_payloads as payloads
from tests.fakes.block_kit import message_problems
from tests.scenario.conftest import TEAM, BotDriver, eventually, key
from tests.scenario.test_slack_bot import nudge_ts

MENU = "stretch_nudge_menu"


def roll_of(message: dict[str, Any]) -> str | None:
    """The who-moved line on a nudge as Slack stores it, or None."""
    for block in message.get("blocks") or []:
        if block.get("block_id") == "stretch_roll":
            return str(block["elements"][0]["text"])
    return None


def updates_of(bot: BotDriver, ts: str) -> list[Any]:
    return [c for c in bot.slack.calls if c.method == "chat.update" and c.params.get("ts") == ts]


async def roll_shows(bot: BotDriver, ts: str, expected: str, timeout: float = 8.0) -> str:
    async def probe() -> str | None:
        message = bot.slack.find_message("C0001", ts)
        line = roll_of(message) if message else None
        return line if line == expected else None

    try:
        return str(await eventually(probe, timeout=timeout, what=f"the roll {expected!r}"))
    except AssertionError:
        message = bot.slack.find_message("C0001", ts) or {}
        raise AssertionError(f"roll is {roll_of(message)!r}, wanted {expected!r}") from None


async def pick(bot: BotDriver, value: str, *, ts: str, user: str = "U0001") -> dict[str, Any]:
    bot._responses += 1
    name = f"menu{bot._responses}"
    body = payloads.overflow_body(
        action_id=MENU,
        value=value,
        user_id=user,
        message_ts=ts,
        team_id=TEAM,
        response_url=bot.slack.response_url(name),
    )
    reply = await bot.post(body)
    assert reply.status == 200, reply.text
    return await bot.response(name)


async def test_reactions_removal_and_done_edit_the_nudge_in_place(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.2  # the coalescing window, short for the test
    ts = await nudge_ts(bot)
    [posted] = bot.posts()
    original = [json.dumps(b, sort_keys=True) for b in posted["blocks"]]

    for user in ("U0011", "U0012", "U0013"):
        await bot.react(user=user, ts=ts)
    await roll_shows(bot, ts, "✅ 3 moved: <@U0011> <@U0012> <@U0013>")

    await bot.react(user="U0012", ts=ts, removed=True)
    await roll_shows(bot, ts, "✅ 2 moved: <@U0011> <@U0013>")

    answer = await bot.press_done(user="U0014", ts=ts)
    assert "break logged" in answer["text"]
    await roll_shows(bot, ts, "✅ 3 moved: <@U0011> <@U0013> <@U0014>")

    # Same message (ts), its exercise, Done button and menu kept; only the roll added.
    message = bot.slack.find_message("C0001", ts)
    assert message is not None and message["ts"] == ts and len(bot.posts()) == 1
    kept = [
        json.dumps(b, sort_keys=True) for b in message["blocks"] if roll_of({"blocks": [b]}) is None
    ]
    assert kept == original
    assert message_problems(message) == []
    for call in updates_of(bot, ts):
        assert call.status == 200 and call.response["ok"], call.response


async def test_a_burst_is_coalesced_and_the_last_edit_is_exact(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 1.0
    ts = await nudge_ts(bot)
    people = [f"U{100 + i}" for i in range(30)]
    for person in people:
        await bot.react(user=person, ts=ts)
    await roll_shows(
        bot,
        ts,
        "✅ 30 moved: " + " ".join(f"<@{p}>" for p in people[:10]) + " and 20 more",
    )
    edits = updates_of(bot, ts)
    assert 1 <= len(edits) <= 4, len(edits)  # ~30 reactions in well under 3 windows
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(edits)]
    assert all(gap >= 0.95 for gap in gaps), gaps


async def test_a_429_is_waited_out_and_the_roll_still_ends_exact(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.1
    ts = await nudge_ts(bot)
    bot.slack.rate_limit("chat.update", times=1, retry_after=1)
    await bot.react(user="U0021", ts=ts)
    await bot.react(user="U0022", ts=ts)
    await roll_shows(bot, ts, "✅ 2 moved: <@U0021> <@U0022>")
    statuses = [c.status for c in updates_of(bot, ts)]
    assert statuses[0] == 429 and statuses[-1] == 200
    assert bot.slack.unhonoured_429s == {}
    first_ok = next(c for c in updates_of(bot, ts) if c.status == 200)
    assert first_ok.received_at - updates_of(bot, ts)[0].received_at >= 0.95


async def test_opted_out_people_are_counted_but_never_named(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.1
    ts = await nudge_ts(bot)
    await bot.react(user="U0031", ts=ts)
    await roll_shows(bot, ts, "✅ 1 moved: <@U0031>")
    await bot.command("optout", user="U0031")
    await bot.react(user="U0032", ts=ts)
    line = await roll_shows(bot, ts, "✅ 2 moved: <@U0032> and 1 more")
    assert "U0031" not in json.dumps(bot.slack.find_message("C0001", ts))
    assert "U0031" not in line

    # Only opted-out movers: a count, no names.
    await bot.react(user="U0032", ts=ts, removed=True)
    await roll_shows(bot, ts, "✅ 1 moved")


async def test_opting_out_or_forget_me_takes_the_name_off_recent_nudges(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.1
    first, second = await nudge_ts(bot), await nudge_ts(bot)
    for ts in (first, second):
        await bot.react(user="U0061", ts=ts)
        await bot.react(user="U0062", ts=ts)
    await roll_shows(bot, first, "✅ 2 moved: <@U0061> <@U0062>")
    await roll_shows(bot, second, "✅ 2 moved: <@U0061> <@U0062>")

    await bot.command("optout", user="U0061")  # no new ✅ needed: both lines are edited
    await roll_shows(bot, first, "✅ 2 moved: <@U0062> and 1 more")
    await roll_shows(bot, second, "✅ 2 moved: <@U0062> and 1 more")

    await bot.command("forget-me confirm", user="U0062")  # their breaks go, and their name
    await roll_shows(bot, first, "✅ 1 moved")
    await roll_shows(bot, second, "✅ 1 moved")


async def test_reactions_elsewhere_edit_nothing(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.1
    ts = await nudge_ts(bot)
    await bot.react(user="U0041", ts="1700009999.000100")  # not a nudge
    await bot.react(user="U0041", ts=ts, reaction="tada")  # not a ✅
    await bot.react(user="U0042", ts=ts)
    await roll_shows(bot, ts, "✅ 1 moved: <@U0042>")
    assert {c.params.get("ts") for c in bot.slack.calls if c.method == "chat.update"} == {ts}


# ---- the nudge's menu ---------------------------------------------------------------------


async def test_seated_version_answers_only_the_presser(bot: BotDriver) -> None:
    ts = await nudge_ts(bot)
    answer = await pick(bot, "seated", ts=ts, user="U0051")
    assert answer["response_type"] == "ephemeral"
    assert answer.get("replace_original") is False
    assert answer["text"].startswith("Seated version: *")
    exercise_key = bot.slack.find_message("C0001", ts)["blocks"][2]["elements"][0]["value"]
    from bot.exercises import CATALOG

    seated = {e.name for e in CATALOG if e.position == "seated" and e.key != exercise_key}
    assert any(name in answer["text"] for name in seated), answer["text"]
    assert len(bot.posts()) == 1  # nothing in the channel


async def test_skip_records_a_skip_for_the_next_slot_shown_in_status(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays tz Europe/Berlin")
    ts = await nudge_ts(bot)
    answer = await pick(bot, "skip", ts=ts)
    assert answer["response_type"] == "in_channel"
    assert "skipped the next movement break" in answer["text"]
    assert "09:45" in answer["text"] and "10:30" in answer["text"]

    status = (await bot.command("status"))["text"]
    assert "Skipped: " in status and "09:45" in status.split("Skipped: ")[1].split("\n")[0]
    assert "10:30" in status.split("Next nudges: ")[1]

    again = await pick(bot, "skip", ts=ts)
    assert "already skipped" in again["text"]

    # The skipped slot is not posted; the one after it is.
    before = len(bot.posts())
    bot.clock.set(datetime(2026, 11, 23, 8, 45, 5, tzinfo=UTC))
    outcomes = await bot.services.nudging.run_due_nudges(bot.clock())
    assert outcomes == [] and len(bot.posts()) == before
    bot.clock.set(datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC))
    [posted] = await bot.services.nudging.run_due_nudges(bot.clock())
    assert posted.decision == "posted"
    assert posted.slot_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def test_pause_today_pauses_until_tomorrow(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays tz Europe/Berlin")
    ts = await nudge_ts(bot)
    answer = await pick(bot, "pause_today", ts=ts)
    assert answer["response_type"] == "in_channel"
    assert "paused movement breaks here until" in answer["text"]
    state = await bot.services.storage.channels.get(key())
    assert state is not None and state.paused
    # Local midnight in Berlin: the rest of today's window.
    assert state.paused_until == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    bot.clock.set(datetime(2026, 11, 23, 8, 45, 5, tzinfo=UTC))
    await bot.services.nudging.run_due_nudges(bot.clock())
    assert len(bot.posts()) == 1  # only the nudge of `now`
    bot.clock.set(datetime(2026, 11, 24, 8, 45, 5, tzinfo=UTC))
    [posted] = await bot.services.nudging.run_due_nudges(bot.clock())
    assert posted.decision == "posted"


async def test_menu_schedule_changes_follow_admins_only(bot: BotDriver) -> None:
    bot.slack.set_user("U0009", is_admin=True)
    await bot.command("every 45m 09:00-17:00 weekdays tz Europe/Berlin", user="U0009")
    await bot.command("admins-only on", user="U0009")
    ts = await nudge_ts(bot)
    before = await bot.services.storage.channels.get(key())
    for value in ("skip", "pause_today"):
        refused = await pick(bot, value, ts=ts, user="U0001")
        assert refused["response_type"] == "ephemeral"
        assert "Only workspace admins and owners can change the schedule" in refused["text"]
    assert await bot.services.storage.channels.get(key()) == before
    seated = await pick(bot, "seated", ts=ts, user="U0001")  # private: anyone
    assert seated["text"].startswith("Seated version")
    allowed = await pick(bot, "skip", ts=ts, user="U0009")
    assert "skipped the next movement break" in allowed["text"]


async def test_a_menu_pick_of_the_wrong_shape_changes_nothing(bot: BotDriver) -> None:
    await bot.command("every 45m 09:00-17:00 weekdays tz Europe/Berlin")
    ts = await nudge_ts(bot)
    before = await bot.services.storage.channels.get(key())
    for value in ("pause 1000h", "off", "<!channel>", ""):
        body = payloads.overflow_body(action_id=MENU, value=value, message_ts=ts, team_id=TEAM)
        reply = await bot.post(body)
        assert reply.status == 200
    assert await bot.services.storage.channels.get(key()) == before
    assert len(bot.posts()) == 1


async def test_a_burst_over_many_nudges_stays_within_the_workspace_budget(bot: BotDriver) -> None:
    from handlers.slack.update_pacing import UpdatePacer

    bot.services.who_moved.updates.interval = 0.1
    bot.runtime.slack.chat.pacer = UpdatePacer(per_minute=120, burst=2)  # 2 at once, then 2/s
    nudges = [await nudge_ts(bot) for _ in range(6)]
    bot.slack.per_minute_limits["chat.update"] = 120
    for i, ts in enumerate(nudges):
        await bot.react(user=f"U02{i:02d}", ts=ts)
    for i, ts in enumerate(nudges):
        await roll_shows(bot, ts, f"✅ 1 moved: <@U02{i:02d}>")
    edits = [c for c in bot.slack.calls if c.method == "chat.update"]
    assert all(c.status == 200 for c in edits)
    first = edits[0].received_at
    for start in (c.received_at for c in edits):
        in_window = [c for c in edits if start <= c.received_at < start + 1.0]
        # The burst plus the rate for the window: 2 + 2/s x 1 s.
        assert len(in_window) <= 4, [round(c.received_at - first, 2) for c in edits]
    assert edits[-1].received_at - first >= 1.9  # 6 edits: 2 at once, then one per 0.5 s
    assert bot.slack.unhonoured_429s == {}


async def test_edits_waiting_for_their_turn_read_nothing(bot: BotDriver) -> None:
    """A burst of ✅ over many nudges queues edits behind the workspace's budget; those waiting
    cost no database read (they read what they show when their turn comes)."""
    from handlers.slack.update_pacing import UpdatePacer

    bot.runtime.slack.chat.pacer = UpdatePacer(per_minute=1, burst=2)  # 2 now, then 1 a minute
    nudges = [await nudge_ts(bot) for _ in range(6)]
    storage = bot.services.storage
    reads: list[str] = []
    find, get = storage.nudges.find_by_message, storage.channels.get

    async def counted_find(**kwargs: Any) -> Any:
        reads.append("nudge")
        return await find(**kwargs)

    async def counted_get(*args: Any, **kwargs: Any) -> Any:
        reads.append("channel")
        return await get(*args, **kwargs)

    storage.nudges.find_by_message = counted_find  # type: ignore[method-assign]
    storage.channels.get = counted_get  # type: ignore[method-assign]
    for i, ts in enumerate(nudges):
        await bot.react(user=f"U03{i:02d}", ts=ts)

    async def two_edits() -> bool:
        return len([c for c in bot.slack.calls if c.method == "chat.update"]) == 2

    await eventually(two_edits, what="the first two edits")
    assert bot.services.who_moved.updates.pending == 6  # two done (pausing), four waiting
    assert sorted(reads) == ["channel", "channel", "nudge", "nudge"]


async def test_the_edit_is_in_the_channels_language(bot: BotDriver) -> None:
    bot.services.who_moved.updates.interval = 0.1
    answer = await bot.command("language de")
    assert answer is not None and "Deutsch" in answer["text"], answer
    ts = await nudge_ts(bot)
    await bot.react(user="U0041", ts=ts)
    await roll_shows(bot, ts, "✅ 1 hat sich bewegt: <@U0041>")
