"""The Teams flow end to end: real `/api/messages` over HTTP, real SDK, fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import start
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import FakeClock, bot_settings
from tests.teams import payloads
from tests.teams.conftest import TeamsDriver, teams_key, teams_settings
from tests.teams.fake_connector import ConnectorCall, FakeConnector, card_of, card_text
from tests.teams.payloads import ADA, DESIGN, GENERAL, GRACE, GROUP_CHAT, LINUS, TENANT

MONDAY_0845 = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)  # 09:45 in Berlin: the first slot


def mentions(call: ConnectorCall) -> list[dict[str, Any]]:
    return [e for e in call.body.get("entities") or [] if e.get("type") == "mention"]


def exercise_of(call: ConnectorCall) -> str:
    card = card_of(call.body)
    assert card is not None
    return str(card["actions"][0]["data"]["exercise"])


async def scheduled(teams: TeamsDriver, **kw: Any) -> ConnectorCall:
    """Install, schedule `every 45m` from Ada in General and post the first nudge."""
    await teams.install()
    await teams.say("stretch every 45m 09:00-17:00 weekdays", **kw)
    return await teams.nudge(MONDAY_0845)


async def press_done(
    teams: TeamsDriver, nudge: ConnectorCall, person: payloads.Person = ADA
) -> dict[str, Any]:
    answer = await teams.send(
        payloads.done_pressed(
            nudge.response["id"],
            service_url=teams.service_url,
            exercise=exercise_of(nudge),
            person=person,
        )
    )
    assert answer.status == 200, answer
    return dict(answer.body)


# ---- install -------------------------------------------------------------------------------


async def test_install_says_hello_once_with_a_how_to(teams: TeamsDriver) -> None:
    await teams.install()
    # Teams also announces the bot joining the team: no second hello.
    await teams.send(payloads.bot_added(service_url=teams.service_url))
    [hello] = teams.connector.messages(GENERAL)
    assert hello.kind == "send"  # a new post, not a reply to the install event
    assert "@stretchbot stretch every 45m 09:00-17:00 weekdays" in hello.body["text"]
    assert hello.body["from"]["id"] == payloads.BOT_ID


async def test_install_greets_in_the_channel_chosen_at_install(teams: TeamsDriver) -> None:
    await teams.install(selected_channel=DESIGN)
    [hello] = teams.connector.messages()
    assert hello.conversation_id == DESIGN
    stored = await teams.services.chats["teams"].directory.reference(teams_key(DESIGN))
    assert stored is not None and stored.active


async def test_added_to_a_group_chat_says_hello_there(teams: TeamsDriver) -> None:
    await teams.send(
        payloads.bot_added(
            service_url=teams.service_url, conversation_id=GROUP_CHAT, group_chat=True
        )
    )
    [hello] = teams.connector.messages(GROUP_CHAT)
    assert "@stretchbot" in hello.body["text"]


# ---- commands ------------------------------------------------------------------------------


async def test_schedule_answers_in_the_thread_naming_the_person(teams: TeamsDriver) -> None:
    await teams.install()
    [answer] = await teams.say("stretch every 45m 09:00-17:00 weekdays")
    assert answer.kind == "reply" and answer.conversation_id == GENERAL
    text = answer.body["text"]
    assert "every 45 minutes" in text and "Europe/Berlin" in text  # Ada's clientInfo timezone
    assert text.startswith("<at>Ada Lovelace</at> scheduled")
    [mention] = mentions(answer)
    assert mention["mentioned"] == {"id": ADA.aad, "name": "Ada Lovelace"}
    assert mention["text"] == "<at>Ada Lovelace</at>"
    state = await teams.services.storage.channels.get(teams_key())
    assert state is not None and state.enabled and state.spec.tz == "Europe/Berlin"


async def test_the_same_words_work_with_and_without_the_stretch_word(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("every 90m 10:00-16:00 mon,wed,fri tz America/Chicago")
    [answer] = await teams.say("status", person=GRACE)
    assert "every 90 minutes" in answer.body["text"]
    assert "America/Chicago" in answer.body["text"]
    [answer] = await teams.say("stretch status", person=GRACE)
    assert "Next nudges:" in answer.body["text"]


async def test_the_senders_timezone_is_the_default(teams: TeamsDriver) -> None:
    await teams.install()
    [answer] = await teams.say("stretch every 1h", person=GRACE)
    assert "America/New_York" in answer.body["text"]


async def test_a_command_in_a_thread_is_the_channel(teams: TeamsDriver) -> None:
    await teams.install()
    [answer] = await teams.say("stretch every 45m", channel=DESIGN, thread="1763884799999")
    assert answer.conversation_id == f"{DESIGN};messageid=1763884799999"  # in the thread
    assert await teams.services.storage.channels.get(teams_key(DESIGN)) is not None
    stored = await teams.services.chats["teams"].directory.reference(teams_key(DESIGN))
    assert stored is not None and f'"id":"{DESIGN}"' in stored.reference  # top-level posts


async def test_help_and_mistakes_show_teams_usage(teams: TeamsDriver) -> None:
    await teams.install()
    [help_answer] = await teams.say("help")
    assert "`@stretchbot every 45m 09:00-17:00 weekdays`" in help_answer.body["text"]
    assert "/stretch" not in help_answer.body["text"]
    assert "doctor" in help_answer.body["text"]
    [mistake] = await teams.say("stretch every 3m")
    assert "/stretch" not in mistake.body["text"] and "@stretchbot" in mistake.body["text"]


async def test_stretch_posts_a_nudge_card_now(teams: TeamsDriver) -> None:
    await teams.install()
    calls = await teams.say("stretch")
    [nudge] = [c for c in calls if card_of(c.body)]
    assert nudge.kind == "send" and nudge.conversation_id == GENERAL
    card = card_of(nudge.body)
    assert card is not None and card["version"] == "1.5"
    assert nudge.body["summary"].startswith("Movement break: ")


async def test_a_bare_mention_posts_a_break_and_a_picture_does_nothing(
    teams: TeamsDriver,
) -> None:
    await teams.install()
    calls = await teams.say("")
    assert [c for c in calls if card_of(c.body)]
    picture = payloads.personal_message("", service_url=teams.service_url)
    picture["attachments"] = [{"contentType": "image/png", "contentUrl": "https://x/y.png"}]
    before = len(teams.connector.calls)
    assert (await teams.send(picture)).status == 202
    assert len(teams.connector.calls) == before


async def test_stats_go_to_the_personal_chat(teams: TeamsDriver) -> None:
    await teams.install()
    calls = await teams.say("stats")
    assert [c.kind for c in calls] == ["create_conversation", "send"]
    created, private = calls
    assert created.body["members"] == [{"id": ADA.teams_id}]
    assert created.body["tenantId"] == TENANT and created.body["isGroup"] is False
    assert private.conversation_id == created.response["id"]
    assert "Your breaks in this channel" in private.body["text"]


async def test_stats_answer_in_the_thread_when_the_personal_chat_fails(
    teams: TeamsDriver,
) -> None:
    await teams.install()
    teams.connector.fail_creates = 1
    calls = await teams.say("stats")
    assert [c.kind for c in calls] == ["create_conversation", "reply"]


async def test_a_personal_chat_works_without_a_team(teams: TeamsDriver) -> None:
    activity = payloads.personal_message("stats", service_url=teams.service_url)
    answer = await teams.send(activity)
    assert answer.status == 202
    [reply] = teams.connector.messages(activity["conversation"]["id"])
    card = card_of(
        reply.body
    )  # stats in the personal chat: the home card (tests/teams/test_surfaces.py)
    assert card is not None and "Your movement breaks" in card_text(card)


async def test_a_failing_command_gets_a_friendly_answer(
    teams: TeamsDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await teams.install()

    async def broken(*args: Any, **kw: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(teams.services.commands, "run", broken)
    [answer] = await teams.say("status")
    assert "something went wrong" in answer.body["text"]
    assert "database went away" not in json.dumps(answer.body)


# ---- scheduled nudges, Done and reactions --------------------------------------------------


async def test_a_scheduled_nudge_is_a_proactive_adaptive_card(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    assert nudge.kind == "send" and nudge.conversation_id == GENERAL
    card = card_of(nudge.body)
    assert card is not None
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    [done] = card["actions"]
    assert done["type"] == "Action.Execute" and done["verb"] == "done"
    text = card_text(card)
    assert text.startswith("Movement break: ")
    # the same slot again: nothing more (one claim per slot)
    assert await teams.services.nudging.run_due_nudges(MONDAY_0845 + timedelta(seconds=20)) == []
    assert len(teams.connector.cards(GENERAL)) == 1


async def test_done_logs_once_and_updates_the_card_for_everyone(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    response = await press_done(teams, nudge)
    assert response["statusCode"] == 200
    assert response["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Moved so far (1): Ada Lovelace." in card_text(response["value"])
    [update] = teams.connector.of_kind("update")
    assert update.activity_id == nudge.response["id"]
    assert "Moved so far (1): Ada Lovelace." in card_text(card_of(update.body) or {})

    again = await press_done(teams, nudge)  # pressed twice: counted once, no second update
    assert "Moved so far (1)" in card_text(again["value"])
    assert len(teams.connector.of_kind("update")) == 1
    assert await teams.breaks() == {ADA.aad: 1}

    await press_done(teams, nudge, GRACE)
    last = teams.connector.of_kind("update")[-1]
    assert "Moved so far (2): Ada Lovelace and Grace Hopper." in card_text(card_of(last.body) or {})
    assert await teams.breaks() == {ADA.aad: 1, GRACE.aad: 1}


async def test_done_on_something_that_is_not_a_nudge(teams: TeamsDriver) -> None:
    await teams.install()
    answer = await teams.send(
        payloads.done_pressed("999", service_url=teams.service_url, exercise="heel-lifts")
    )
    assert answer.status == 200
    assert answer.body["type"] == "application/vnd.microsoft.activity.message"
    assert "isn't one I can count" in answer.body["value"]
    assert await teams.breaks() == {}


async def test_any_reaction_counts_and_removing_it_takes_it_back(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    message_id = nudge.response["id"]
    url = teams.service_url

    await teams.send(payloads.reaction(message_id, service_url=url, added=("like",)))
    assert await teams.breaks() == {ADA.aad: 1}
    await teams.send(payloads.reaction(message_id, service_url=url, added=("heart",)))
    await teams.send(payloads.reaction(message_id, service_url=url, added=("like",)))  # redelivered
    assert await teams.breaks() == {ADA.aad: 1}
    await teams.send(payloads.reaction(message_id, service_url=url, removed=("like",)))
    assert await teams.breaks() == {ADA.aad: 1}  # the heart still counts
    await teams.send(payloads.reaction(message_id, service_url=url, removed=("heart",)))
    assert await teams.breaks() == {}

    # newer reaction types (e.g. the check mark) count too
    await teams.send(
        payloads.reaction(message_id, service_url=url, person=GRACE, added=("checkmark",))
    )
    assert await teams.breaks() == {GRACE.aad: 1}


async def test_reactions_on_other_messages_count_nothing(teams: TeamsDriver) -> None:
    await scheduled(teams)
    await teams.send(payloads.reaction("12345", service_url=teams.service_url, added=("like",)))
    assert await teams.breaks() == {}


async def test_the_leaderboard_names_people(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    await teams.say("stats", person=GRACE)  # Grace wrote once: her name is known
    url, message_id = teams.service_url, nudge.response["id"]
    await press_done(teams, nudge, ADA)
    await teams.send(payloads.reaction(message_id, service_url=url, person=GRACE, added=("like",)))
    await press_done(teams, nudge, LINUS)
    stranger = payloads.Person("aad-stranger", "29:1x", "")
    await teams.send(
        payloads.reaction(message_id, service_url=url, person=stranger, added=("like",))
    )

    calls = await teams.say("leaderboard")
    [board] = [c for c in calls if card_of(c.body)]
    assert board.kind == "send" and board.conversation_id == GENERAL
    card = card_of(board.body)
    assert card is not None
    text = card_text(card)
    assert "Movement leaderboard: this week" in text
    assert "1. <at>Ada Lovelace</at> 1 break" in text
    assert "<at>Grace Hopper</at>" in text
    assert "<at>Linus admin T</at>" in text  # markup stripped from names
    assert "1. Someone 1 break" in text  # no name known
    entities = {e["mentioned"]["id"]: e for e in card["msteams"]["entities"]}
    assert set(entities) == {ADA.aad, GRACE.aad, LINUS.aad}
    assert entities[ADA.aad]["text"] == "<at>Ada Lovelace</at>"


# ---- removal, restart, failures -------------------------------------------------------------


async def test_uninstall_stops_the_schedule_and_a_reinstall_brings_it_back(
    teams: TeamsDriver,
) -> None:
    await scheduled(teams)
    await teams.say("stretch every 45m", channel=DESIGN)
    answer = await teams.send(payloads.uninstalled(service_url=teams.service_url))
    assert answer.status == 202
    for channel in (GENERAL, DESIGN):
        state = await teams.services.storage.channels.get(teams_key(channel))
        assert state is not None and not state.enabled
        stored = await teams.services.chats["teams"].directory.reference(teams_key(channel))
        assert stored is not None and not stored.active
    teams.clock.set(MONDAY_0845 + timedelta(minutes=45))
    assert await teams.services.nudging.run_due_nudges() == []

    await teams.install()
    assert len([c for c in teams.connector.messages(GENERAL) if "Hi, I'm" in str(c.body)]) == 2
    for channel in (GENERAL, DESIGN):
        state = await teams.services.storage.channels.get(teams_key(channel))
        assert state is not None and state.enabled
    # both channels get their nudges again, the one the install did not announce too
    later = MONDAY_0845 + timedelta(minutes=90)
    teams.clock.set(later)
    outcomes = await teams.services.nudging.run_due_nudges(later)
    assert sorted(o.decision for o in outcomes) == ["posted", "posted"]
    assert len(teams.connector.cards(DESIGN)) == 1


async def test_bot_removed_from_a_group_chat_stops_that_chat(teams: TeamsDriver) -> None:
    url = teams.service_url
    await teams.send(
        payloads.bot_added(service_url=url, conversation_id=GROUP_CHAT, group_chat=True)
    )
    message = payloads.message("stretch every 45m", service_url=url)
    message["conversation"].update(id=GROUP_CHAT, conversationType="groupChat")
    del message["channelData"]["team"], message["channelData"]["channel"]
    await teams.send(message)
    group = teams_key(GROUP_CHAT, workspace=f"{TENANT}:{GROUP_CHAT}")
    state = await teams.services.storage.channels.get(group)
    assert state is not None and state.enabled

    await teams.send(
        payloads.bot_removed(service_url=url, conversation_id=GROUP_CHAT, group_chat=True)
    )
    state = await teams.services.storage.channels.get(group)
    assert state is not None and not state.enabled


async def test_a_deleted_channel_stops_its_schedule(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m", channel=DESIGN)
    await teams.send(payloads.channel_deleted(DESIGN, service_url=teams.service_url))
    state = await teams.services.storage.channels.get(teams_key(DESIGN))
    assert state is not None and not state.enabled
    general = await teams.services.chats["teams"].directory.reference(teams_key(GENERAL))
    assert general is not None and general.active


async def test_a_removed_bot_found_while_posting_stops_the_schedule(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m 09:00-17:00 weekdays")
    teams.connector.remove_bot(GENERAL)
    [outcome] = await teams.services.nudging.run_due_nudges(MONDAY_0845)
    assert outcome.decision == "failed" and outcome.detail == "BotNotInConversationRoster"
    state = await teams.services.storage.channels.get(teams_key())
    assert state is not None and not state.enabled


async def test_throttled_posts_are_retried_after_retry_after(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m 09:00-17:00 weekdays")
    teams.connector.fail(GENERAL, status=429, retry_after=0.01)
    teams.connector.fail(GENERAL, status=502, retry_after=0.01)
    await teams.nudge(MONDAY_0845)
    statuses = [c.status for c in teams.connector.of_kind("send", ok=False)][-3:]
    assert statuses == [429, 502, 201]


async def test_a_restarted_bot_posts_with_the_stored_reference(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    settings = teams_settings(slack, sqlite_url)
    first = await start(settings, clock=clock, scheduler_on=False, teams_anonymous=True)
    async with aiohttp.ClientSession() as http:
        driver = TeamsDriver(first, connector, clock, http)
        await driver.install()
        await driver.say("stretch every 45m 09:00-17:00 weekdays")
    await first.stop()

    second = await start(settings, clock=clock, scheduler_on=False, teams_anonymous=True)
    try:
        clock.set(MONDAY_0845)
        [outcome] = await second.services.nudging.run_due_nudges(MONDAY_0845)
        assert outcome.decision == "posted"
        assert len(connector.cards(GENERAL)) == 1
    finally:
        await second.stop()


@pytest.mark.postgres
async def test_two_replicas_post_a_teams_slot_once(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, postgres_url: str
) -> None:
    settings = teams_settings(slack, postgres_url)
    one = await start(settings, clock=clock, scheduler_on=False, teams_anonymous=True)
    two = await start(settings, clock=clock, scheduler_on=False, teams_anonymous=True)
    try:
        async with aiohttp.ClientSession() as http:
            driver = TeamsDriver(one, connector, clock, http)
            await driver.install()
            await driver.say("stretch every 45m 09:00-17:00 weekdays")
        clock.set(MONDAY_0845)
        results = await asyncio.gather(
            one.services.nudging.run_due_nudges(MONDAY_0845),
            two.services.nudging.run_due_nudges(MONDAY_0845),
        )
        decisions = sorted(o.decision for outcomes in results for o in outcomes)
        assert decisions.count("posted") == 1
        assert len(connector.cards(GENERAL)) == 1  # posted by the replica that did not install
    finally:
        await one.stop()
        await two.stop()


# ---- the endpoint --------------------------------------------------------------------------


async def test_without_anonymous_mode_the_endpoint_wants_a_token(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    runtime = await start(teams_settings(slack, sqlite_url), clock=clock, scheduler_on=False)
    try:
        base = f"http://127.0.0.1:{runtime.port}"
        activity = payloads.message("status", service_url=connector.service_url)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/messages", json=activity) as response:
                assert response.status == 401
            bearer = {"Authorization": "Bearer not-a-jwt"}
            async with http.post(f"{base}/api/messages", json=activity, headers=bearer) as r:
                assert r.status == 401
            async with http.get(f"{base}/healthz") as response:  # other routes: no JWT check
                assert response.status == 200
            async with http.post(f"{base}/slack/events", data=b"x") as response:
                assert response.status == 401  # Slack's own signature check, not a JWT one
                assert "signature" in await response.text()
        assert connector.calls == []
    finally:
        await runtime.stop()


async def test_malformed_activities_get_a_4xx(teams: TeamsDriver) -> None:
    async with teams.http.post(
        teams.url, data=b"{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
    answer = await teams.send({"type": "message"})  # no conversation
    assert answer.status == 400
    answer = await teams.send({"type": "message", "conversation": {"id": ""}, "from": 7})
    assert answer.status == 400


async def test_the_bot_runs_without_teams(
    slack: FakeSlack, clock: FakeClock, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'slack-only.db'}"
    runtime = await start(bot_settings(slack, url), clock=clock, scheduler_on=False)
    try:
        assert set(runtime.services.chats) == {"slack"}
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{runtime.port}"
            async with http.post(f"{base}/api/messages", json={}) as response:
                assert response.status == 404
    finally:
        await runtime.stop()


async def test_forget_me_asks_first_and_its_button_deletes(teams: TeamsDriver) -> None:
    nudge = await scheduled(teams)
    await press_done(teams, nudge)
    assert await teams.breaks() == {ADA.aad: 1}
    [asked] = [c for c in await teams.say("stretch forget-me") if c.body.get("text")]
    assert "Sure?" in asked.body["text"]
    card = card_of(asked.body)
    assert card is not None
    [button] = card["actions"]
    assert button["verb"] == "run" and button["data"] == {"command": "forget-me confirm"}
    assert await teams.breaks() == {ADA.aad: 1}  # nothing deleted yet
    answer = await teams.send(
        payloads.card_action(
            asked.response["id"],
            service_url=teams.service_url,
            verb=button["verb"],
            data=button["data"],
        )
    )
    assert answer.status == 200, answer
    assert "deleted your 1 break" in json.dumps(answer.body)
    assert await teams.breaks() == {}


async def test_personal_reminders_say_they_are_slack_only(teams: TeamsDriver) -> None:
    await teams.install()
    calls = await teams.say("me every 1h 09:00-17:00")
    assert calls and "Slack direct message" in calls[-1].body["text"]
