"""The real `stretchbot run` (HTTP mode) with the new surfaces: a person opens the Home tab,
presses Edit schedule, and saves a new schedule in the modal; the channel gets the confirmation,
the Home tab shows the new schedule, and a mistake in the modal changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import (
    CHANNEL,
    USER,
    BotFactory,
    SlackClient,
    eventually,
    http_mode_env,
)
from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.block_kit import view_problems
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e


def texts(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


async def test_open_home_edit_the_schedule_in_the_modal(
    slack: FakeSlack, slack_client: SlackClient, start_bot: BotFactory, sqlite_url: str
) -> None:
    bot = await start_bot(http_mode_env(slack, sqlite_url))
    slack.surfaces.join(USER, CHANNEL)
    reply, name = await slack_client.command(bot, "every 45m 09:00-17:00 weekdays")
    assert reply.status == 200
    await slack_client.response(name)

    # The Home tab: the channel with its schedule and an Edit schedule button.
    dm = slack.surfaces.open_im(USER).id
    opened = await slack_client.event(bot, surface.app_home_opened_event(user=USER, channel=dm))
    assert opened.status == 200 and opened.elapsed < 3.0
    await slack.wait_for("views.publish", timeout=10)
    home = slack.surfaces.home_of(USER)
    assert home is not None and not view_problems(home)
    assert "Every 45 minutes, 09:00–17:00 on weekdays (Europe/Berlin)" in texts(home)

    # Edit schedule: the modal opens with the trigger of the press.
    press = surface.press(
        home, f"stretch_home_edit:{CHANNEL}", trigger_id=slack.surfaces.issue_trigger(USER)
    )
    assert (await slack_client.post(bot, payloads.interactivity_body(press))).status == 200
    [opened_call] = await slack.wait_for("views.open", timeout=10)
    assert opened_call.response["ok"], opened_call.response
    modal = opened_call.response["view"]

    # A mistake: errors next to the field, the schedule as it was.
    bad = surface.view_submission(modal, {"window_start": "18:00", "window_end": "08:00"})
    answer = await slack_client.post(bot, payloads.interactivity_body(bad))
    assert answer.status == 200 and answer.elapsed < 3.0
    assert json.loads(answer.text)["response_action"] == "errors"
    assert "window_end" in json.loads(answer.text)["errors"]

    # A good one: the modal closes, the channel hears of it, Home shows the new schedule.
    publishes = len(slack.calls_to("views.publish"))
    good = surface.view_submission(
        modal, {"interval": "30m", "window_start": "08:00", "days": ["0", "1", "2", "3"]}
    )
    answer = await slack_client.post(bot, payloads.interactivity_body(good))
    assert answer.status == 200 and json.loads(answer.text) == {"response_action": "clear"}

    def confirmed() -> list[dict] | None:
        posts = [m for m in slack.messages_in(CHANNEL) if "scheduled movement breaks" in m["text"]]
        return posts or None

    [confirmation] = await eventually(confirmed, timeout=10, what="the confirmation")
    assert "every 30 minutes, 08:00–17:00 on Mon–Thu (Europe/Berlin)" in confirmation["text"]
    await slack.wait_for("views.publish", count=publishes + 1, timeout=10)
    home = slack.surfaces.home_of(USER)
    assert home is not None
    assert "Every 30 minutes, 08:00–17:00 on Mon–Thu (Europe/Berlin)" in texts(home)
    assert "Saved" in texts(home)

    # What `status` says comes from the same stored schedule.
    reply, name = await slack_client.command(bot, "status")
    status = await slack_client.answer(reply, name)
    assert "every 30 minutes, 08:00–17:00 on Mon–Thu (Europe/Berlin)" in status["text"]
    assert await bot.terminate() == 0
