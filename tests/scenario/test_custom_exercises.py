"""Custom exercises end to end, over HTTP against the fake Slack: `/stretch exercises add` opens
the modal, a submission stores the exercise and tells the channel, and nudges (now and
scheduled) pick it; built-ins turned off are never picked; bad input (a 3,000-character name,
an image address that is not https, admins-only) answers next to its field and stores nothing;
names cannot ping or link; every payload keeps to Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import message_problems, view_problems
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import TEAM, BotDriver, key
from tests.scenario.surfaces import answer_in, interact, opened_modal, submit

CLOSED = {"response_action": "clear"}
CHIN = {
    "name": "Chin tucks",
    "how_to": "Sit tall and draw your chin straight back, then relax.",
    "amount": "30",
    "unit": "seconds",
    "position": "seated",
    "image_url": "https://pictures.example.com/chin-tucks.png",
    "pack": "physio",
}


@pytest.fixture(autouse=True)
def bot_in_channel(slack: FakeSlack) -> None:
    """The bot is a member of C0001 (the announcement is posted there, not in a DM)."""
    slack.channels["C0001"].is_member = True


async def add_form(bot: BotDriver, *, user: str = "U0001", channel: str = "C0001") -> dict:
    """`/stretch exercises add`: the modal it opened."""
    before = len(bot.slack.calls_to("views.open"))
    body = payloads.slash_command_body(
        text="exercises add",
        user_id=user,
        channel_id=channel,
        team_id=TEAM,
        response_url=bot.slack.response_url(f"add-{before}"),
        trigger_id=bot.slack.surfaces.issue_trigger(user),
    )
    reply = await bot.post(body)
    assert reply.status == 200 and payloads.ack_answer(reply.text) is None, reply.text
    _call, view = await opened_modal(bot, after=before)
    assert view_problems(view) == []
    return view


async def stored(bot: BotDriver) -> Any:
    return await bot.services.exercises.workspace(key())


async def test_an_exercise_added_in_the_modal_is_what_the_channels_nudges_pick(
    bot: BotDriver,
) -> None:
    view = await add_form(bot)
    assert await submit(bot, view, CHIN) == CLOSED  # the modal closes
    [announcement] = await answer_in(bot, "C0001")
    assert "Chin tucks" in announcement["text"] and "physio" in announcement["text"]
    assert message_problems(announcement) == []
    assert [e.key for e in (await stored(bot)).custom] == ["x-chin-tucks"]

    # The pack holds only this one: a channel using it gets it every time.
    reply = await bot.command("exercises pack physio")
    assert reply is not None and "physio" in reply["text"]
    for _ in range(3):
        await bot.command("now", wait_reply=False)
    nudges = await answer_in(bot, "C0001", count=4)  # the announcement, then the nudges
    for nudge in nudges[1:]:
        assert message_problems(nudge) == []
        assert "Chin tucks" in nudge["text"] and "30 seconds" in json.dumps(nudge["blocks"])
        [image] = [b for b in nudge["blocks"] if b["type"] == "image"]
        assert image["image_url"] == CHIN["image_url"]
        assert image["alt_text"] == "Illustration: Chin tucks"
        assert nudge["blocks"][-1]["elements"][0]["value"] == "x-chin-tucks"

    # A scheduled nudge picks it too, and ✅ on it counts like any other.
    await bot.command("every 45m 09:00-17:00 weekdays")
    slot = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)  # 09:45 Berlin is 08:45 UTC
    bot.clock.set(slot - timedelta(hours=1))
    outcomes = await bot.services.nudging.run_due_nudges(slot - timedelta(hours=1))
    assert [o.decision for o in outcomes] == ["posted"]
    scheduled = bot.posts()[-1]
    assert "Chin tucks" in scheduled["text"]
    await bot.press_done(user="U0002", ts=scheduled["ts"])
    assert (await bot.breaks())["U0002"] == 1

    # Back to the workspace's catalog: the built-ins again (the pack's exercise is not in it).
    await bot.command("exercises pack off")
    listed = await bot.command("exercises")
    assert listed is not None and listed["response_type"] == "ephemeral"
    assert "Heel lifts" in listed["text"] and "`physio`" in listed["text"]
    assert message_problems(listed) == []


async def test_the_list_button_opens_the_same_form(bot: BotDriver) -> None:
    listed = await bot.command("exercises")
    assert listed is not None
    [actions] = [b for b in listed["blocks"] if b["type"] == "actions"]
    button = actions["elements"][0]
    assert button["value"] == "exercises add"
    payload = payloads.block_actions_payload(
        action_id=button["action_id"],
        value=button["value"],
        message_ts=payloads.now_ts(),
        team_id=TEAM,
        response_url=bot.slack.response_url("button"),
        trigger_id=bot.slack.surfaces.issue_trigger("U0001"),
        ephemeral=True,
    )
    await interact(bot, payload)
    _call, view = await opened_modal(bot)
    assert view["callback_id"] == "stretch_exercise_add" and view_problems(view) == []


async def test_builtins_turned_off_are_never_picked(bot: BotDriver) -> None:
    for name in ("lunges", "glute-bridges", "short-walk"):
        reply = await bot.command(f"exercises off {name}")
        assert reply is not None and reply["response_type"] == "in_channel"
        assert "no longer suggest" in reply["text"]
    for n in range(8):  # from several people: each may send 10 commands a minute
        await bot.command("now", user=f"U01{n:02d}", wait_reply=False)
    posted = await answer_in(bot, "C0001", count=8)
    picked = {m["blocks"][-1]["elements"][0]["value"] for m in posted}
    assert picked and not picked & {"lunges", "glute-bridges", "short-walk"}
    again = await bot.command("exercises on lunges")
    assert again is not None
    assert "lunges" not in (await stored(bot)).off


async def test_bad_input_answers_next_to_its_field_and_stores_nothing(bot: BotDriver) -> None:
    view = await add_form(bot)
    cases = [
        ({"name": "x" * 3000}, "name", "80"),
        ({"image_url": "http://pictures.example.com/chin.png"}, "image_url", "https://"),
        ({"amount": "0"}, "amount", "1 to 600"),
        ({"pack": "Not a pack!"}, "pack", "lowercase"),
        ({"name": ""}, "name", "name"),
    ]
    for changes, field, says in cases:
        ack = await submit(bot, view, {**CHIN, **changes})
        assert ack is not None and ack["response_action"] == "errors", ack
        assert set(ack["errors"]) == {field} and says in ack["errors"][field], ack
    # A payload of the wrong shape is no crash either.
    broken = surface.view_submission(view, CHIN)
    broken["view"]["state"] = {"values": {"name": "not a block"}}
    reply = await bot.post(payloads.interactivity_body(broken))
    assert reply.status == 200 and "errors" in reply.text
    broken["view"]["private_metadata"] = "<!channel>"
    reply = await bot.post(payloads.interactivity_body(broken))
    assert reply.status == 200 and "lost track" in reply.text
    assert (await stored(bot)).custom == ()
    assert bot.slack.messages_in("C0001") == []

    # The same name twice (in any case) is refused too.
    assert await submit(bot, view, CHIN) == CLOSED
    ack = await submit(bot, view, {**CHIN, "name": "CHIN TUCKS"})
    assert ack is not None and "name" in ack["errors"]
    assert len((await stored(bot)).custom) == 1


async def test_admins_only_applies_to_the_form_and_to_switches(bot: BotDriver) -> None:
    bot.slack.set_user("UADMIN", is_admin=True)
    await bot.command("admins-only on", user="UADMIN")
    refused = await bot.command("exercises add")
    assert refused is not None and "Only workspace admins" in refused["text"]
    refused = await bot.command("exercises off lunges")
    assert refused is not None and "Only workspace admins" in refused["text"]
    asked = await bot.command("exercises pack")  # asking changes nothing: allowed
    assert asked is not None and "no pack" in asked["text"]
    view = await add_form(bot, user="UADMIN")
    bot.slack.set_user("UADMIN", is_admin=False)  # switched meanwhile: checked on submit
    ack = await submit(bot, view, CHIN, user="UADMIN")
    assert ack is not None and "Only workspace admins" in ack["errors"]["name"]
    assert (await stored(bot)).custom == () and (await stored(bot)).off == frozenset()


async def test_names_cannot_ping_or_link_in_the_channel(bot: BotDriver) -> None:
    view = await add_form(bot)
    hostile = {
        **CHIN,
        "name": "<!channel> @here <@U0002> evil.example.com",
        "how_to": "Click <https://evil.example|here> or [this](https://evil.example).",
        "pack": "hostile",
        "image_url": "",
    }
    assert await submit(bot, view, hostile) == CLOSED
    await bot.command("exercises pack hostile")  # so the next nudge is this one
    await bot.command("now", wait_reply=False)
    posted = await answer_in(bot, "C0001", count=2)  # the announcement and the nudge
    mine = [m for m in posted if "evil" in json.dumps(m, ensure_ascii=False)]
    assert len(mine) == 2
    for message in mine:
        everything = json.dumps(message, ensure_ascii=False)
        assert "<!channel>" not in everything and "<@U0002>" not in everything
        assert "@here" not in everything and "evil.example.com" not in everything
        assert "<https://" not in everything and "](https://" not in everything
        assert message_problems(message) == []


async def test_someone_who_opted_out_is_not_named_in_the_announcement(bot: BotDriver) -> None:
    await bot.command("optout")
    view = await add_form(bot)
    assert await submit(bot, view, CHIN) == CLOSED
    [announcement] = await answer_in(bot, "C0001")
    assert "Someone added *Chin tucks*" in announcement["text"]
    assert "<@U0001>" not in announcement["text"]


async def test_a_pass_reads_each_workspace_once_and_a_failed_read_never_stops_nudges(
    bot: BotDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for channel in ("C0001", "C0002"):
        bot.slack.channels[channel].is_member = True
        await bot.command("every 45m 09:00-17:00 weekdays", channel=channel)
    repository = bot.services.storage.exercises
    real = repository.load_many
    asked: list[list[tuple[str, str]]] = []

    async def counted(teams: list[tuple[str, str]]) -> Any:
        asked.append(list(teams))
        return await real(teams)

    monkeypatch.setattr(repository, "load_many", counted)
    slot = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)
    bot.clock.set(slot)
    outcomes = await bot.services.nudging.run_due_nudges(slot)
    assert [o.decision for o in outcomes] == ["posted", "posted"]
    assert asked == [[("slack", TEAM)]]  # one read for the workspace, not one per channel

    async def broken(teams: list[tuple[str, str]]) -> Any:
        raise ConnectionError("database hiccup")

    monkeypatch.setattr(repository, "load_many", broken)
    later = slot + timedelta(minutes=45)
    bot.clock.set(later)
    outcomes = await bot.services.nudging.run_due_nudges(later)
    assert [o.decision for o in outcomes] == ["posted", "posted"]  # from the built-ins
