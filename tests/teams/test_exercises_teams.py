"""Custom exercises and pictures in Teams, end to end over `/api/messages` with the fake Bot
Connector: the nudge card shows the picture from PUBLIC_URL with alt text (also after Done
refreshes it), a workspace's own exercise shows its own picture, `exercises` lists the catalog
as a bot command, and `exercises add` explains where the form is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import start
from bot.custom_exercises import CustomExercise
from bot.pictures import PICTURES, served_name
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import FakeClock
from tests.teams import payloads
from tests.teams.conftest import TeamsDriver, teams_key, teams_settings
from tests.teams.fake_connector import FakeConnector, card_of, card_text

PUBLIC = "https://stretch.example.com"


@pytest.fixture
async def teams(
    slack: FakeSlack, connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> AsyncIterator[TeamsDriver]:
    settings = teams_settings(slack, sqlite_url, PUBLIC_URL=PUBLIC)
    runtime = await start(settings, clock=clock, scheduler_on=False, teams_anonymous=True)
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsDriver(runtime, connector, clock, http)
    finally:
        await runtime.stop()


def images(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in card["body"] if b.get("type") == "Image"]


async def test_the_nudge_card_shows_the_picture_with_alt_text(teams: TeamsDriver) -> None:
    await teams.install()
    calls = await teams.say("stretch")
    [nudge] = [c for c in calls if card_of(c.body)]
    card = card_of(nudge.body)
    assert card is not None
    key = card["actions"][0]["data"]["exercise"]
    [image] = images(card)
    assert image["url"] == f"{PUBLIC}/pictures/{served_name(PICTURES[key])}"
    assert image["altText"] == PICTURES[key].alt_text
    # Done refreshes the card: the picture stays.
    answer = await teams.send(
        payloads.done_pressed(nudge.response["id"], service_url=teams.service_url, exercise=key)
    )
    assert answer.status == 200
    refreshed = answer.body["value"]
    assert images(refreshed) == [image]


async def test_a_workspaces_own_exercise_shows_in_the_card_and_the_list(
    teams: TeamsDriver,
) -> None:
    await teams.install()
    channel = teams_key()
    await teams.services.storage.exercises.replace(
        platform="teams",
        team_id=channel.team_id,
        exercises=[
            CustomExercise(
                key="x-chin-tucks",
                name="Chin tucks <at>everyone</at>",
                how_to="Sit tall and draw your chin back.",
                amount=10,
                unit="reps",
                position="seated",
                image_url="https://pictures.example.com/chin.png",
                pack="physio",
            )
        ],
        off=frozenset(),
        by="test",
    )
    listed = await teams.say("stretch exercises pack physio")
    assert any("physio" in str(c.body.get("text")) for c in listed)
    calls = await teams.say("stretch")
    [nudge] = [c for c in calls if card_of(c.body)]
    card = card_of(nudge.body)
    assert card is not None
    assert "Chin tucks" in card_text(card) and "<at>" not in card_text(card)
    assert images(card)[0]["url"] == "https://pictures.example.com/chin.png"
    assert images(card)[0]["altText"].startswith("Illustration: Chin tucks")
    answer = await teams.send(
        payloads.done_pressed(
            nudge.response["id"], service_url=teams.service_url, exercise="x-chin-tucks"
        )
    )
    assert answer.status == 200 and "Chin tucks" in card_text(answer.body["value"])

    listing = await teams.say("stretch exercises")
    text = " ".join(str(c.body.get("text")) for c in listing)
    assert "Chin tucks" in text and "10 reps" in text
    adding = await teams.say("stretch exercises add")
    text = " ".join(str(c.body.get("text")) for c in adding)
    assert "form" in text and "stretchbot exercises import" in text
