"""Teams parity over the real `/api/messages`: `settings` answers with an Adaptive Card form
whose Save (`Action.Execute`, verb `settings`) saves what the typed command saves and answers
mistakes in the card; `stats` in the personal chat answers with a home card."""

from __future__ import annotations

import json
from typing import Any

from tests.teams import payloads
from tests.teams.conftest import TeamsDriver, teams_key
from tests.teams.fake_connector import ConnectorCall, card_of, card_text
from tests.teams.payloads import DESIGN, GENERAL, GRACE
from tests.teams.test_scenario import MONDAY_0845, press_done


def form_of(calls: list[ConnectorCall]) -> tuple[ConnectorCall, dict[str, Any]]:
    for call in calls:
        card = card_of(call.body)
        if card is not None and any(a.get("verb") == "settings" for a in card.get("actions", [])):
            return call, card
    raise AssertionError(f"no settings card in {[c.body for c in calls]}")


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in card["body"] if item["type"].startswith("Input.")}


def submitted(card: dict[str, Any], **changes: str) -> dict[str, str]:
    """What Teams sends with Save: the action's data and every input's value (as strings)."""
    data = dict(card["actions"][0]["data"])
    data.update({key: item["value"] for key, item in inputs(card).items()})
    data.update(changes)
    return data


async def save(
    teams: TeamsDriver, call: ConnectorCall, data: dict[str, Any], channel: str = GENERAL
) -> dict[str, Any]:
    answer = await teams.send(
        payloads.card_action(
            call.response["id"],
            service_url=teams.service_url,
            verb="settings",
            data=data,
            channel=channel,
        )
    )
    assert answer.status == 200, answer
    assert answer.body["type"] == "application/vnd.microsoft.card.adaptive"
    return dict(answer.body["value"])


async def test_settings_answers_with_a_form_card(teams: TeamsDriver) -> None:
    await teams.install()
    call, card = form_of(await teams.say("stretch settings"))
    assert call.kind == "reply"  # in the thread of the command
    fields = inputs(card)
    assert [f["type"] for f in fields.values()] == [
        "Input.ChoiceSet",
        "Input.Time",
        "Input.Time",
        "Input.ChoiceSet",
        "Input.Text",
        "Input.ChoiceSet",
        "Input.Toggle",
        "Input.Toggle",
        "Input.ChoiceSet",  # the channel's language
    ]
    assert fields["language"]["value"] == "en"  # Ada's activity locale (en-US)
    assert fields["interval"]["value"] == "45m"
    assert fields["tz"]["value"] == "Europe/Berlin"  # Ada's clientInfo timezone
    assert fields["days"]["value"] == "0,1,2,3,4" and fields["days"]["isMultiSelect"] is True
    assert len(json.dumps(card)) < 28_000  # a Teams message's size limit


async def test_saving_the_card_saves_what_typing_saves(teams: TeamsDriver) -> None:
    await teams.install()
    text = "every 1h30m 08:00-18:00 mon,wed,fri tz Asia/Tokyo holidays JP"
    [typed] = [c for c in await teams.say(f"stretch {text}", channel=DESIGN) if c.body.get("text")]
    call, card = form_of(await teams.say("stretch settings"))
    before = len(teams.connector.calls)
    answer = await save(
        teams,
        call,
        submitted(
            card,
            interval="1h30m",
            window_start="08:00",
            window_end="18:00",
            days="0,2,4",
            tz="asia/tokyo",
            holidays="JP",
        ),
    )
    assert "Saved" in card_text(answer)
    [confirmation] = [c for c in teams.connector.calls[before:] if c.body.get("text")]
    assert confirmation.conversation_id.startswith(GENERAL)
    assert confirmation.body["text"] == typed.body["text"].replace(DESIGN, GENERAL)
    saved = await teams.services.storage.channels.get(teams_key(GENERAL))
    by_text = await teams.services.storage.channels.get(teams_key(DESIGN))
    assert saved.spec == by_text.spec and saved.spec.to_text() == text


async def test_a_mistake_comes_back_in_the_card_and_changes_nothing(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m")
    before = await teams.services.storage.channels.get(teams_key(GENERAL))
    call, card = form_of(await teams.say("stretch settings"))
    sent = len(teams.connector.calls)
    answer = await save(
        teams, call, submitted(card, window_start="17:00", window_end="09:00", tz="Mars/Olympus")
    )
    body = answer["body"]
    errors = [b["text"] for b in body if b.get("color") == "Attention"]
    assert any("Mars/Olympus" in e for e in errors)
    # The form comes back with what was typed, the mistake under its input.
    tz_at = next(i for i, b in enumerate(body) if b.get("id") == "tz")
    assert body[tz_at]["value"] == "Mars/Olympus" and body[tz_at + 1]["color"] == "Attention"
    answer = await save(teams, call, submitted(card, window_start="17:00", window_end="09:00"))
    assert "must end after it starts" in card_text(answer)
    assert await teams.services.storage.channels.get(teams_key(GENERAL)) == before
    assert len(teams.connector.calls) == sent  # nothing posted


async def test_junk_in_the_cards_data_is_a_mistake_too(teams: TeamsDriver) -> None:
    await teams.install()
    call, _card = form_of(await teams.say("stretch settings"))
    before = await teams.services.storage.channels.get(teams_key(GENERAL))
    junk: dict[str, Any] = {"interval": ["45m"], "days": 7, "seated": {"x": 1}}
    answer = await save(teams, call, junk)
    assert any(b.get("color") == "Attention" for b in answer["body"])
    assert await teams.services.storage.channels.get(teams_key(GENERAL)) == before
    assert before is None or before.spec is None


async def test_status_edit_schedule_turns_into_the_form(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m")
    [status] = [c for c in await teams.say("stretch status") if c.body.get("text")]
    card = card_of(status.body)
    assert card is not None
    [button] = card["actions"]
    assert button["data"] == {"command": "settings"}
    answer = await teams.send(
        payloads.card_action(
            status.response["id"], service_url=teams.service_url, verb="run", data=button["data"]
        )
    )
    assert answer.status == 200
    assert any(a.get("verb") == "settings" for a in answer.body["value"]["actions"])


async def test_stats_in_the_personal_chat_is_a_home_card(teams: TeamsDriver) -> None:
    await teams.install()
    await teams.say("stretch every 45m 09:00-17:00 weekdays")
    nudge = await teams.nudge(MONDAY_0845)
    await press_done(teams, nudge)
    await press_done(teams, nudge, GRACE)
    activity = payloads.personal_message("stats", service_url=teams.service_url)
    answer = await teams.send(activity)
    assert answer.status == 202
    [reply] = teams.connector.messages(activity["conversation"]["id"])
    card = card_of(reply.body)
    assert card is not None
    text = card_text(card) + json.dumps(card["body"])
    assert "Your movement breaks" in text
    assert "This week: 1 break in 1 channel." in text
    assert "General channel" in text and "Every 45 minutes" in text
    assert "<#" not in text and "<!date" not in text
    assert card["actions"][0]["data"] == {"command": "optout"}
