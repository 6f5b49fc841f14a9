"""Driving the Slack surfaces of a started bot (the `bot` fixture) the way Slack would: open the
Home tab, press its buttons, fill in and submit a modal, write the bot a DM, mention it."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes import slack_payloads as payloads
from tests.fakes import slack_surface_payloads as surface
from tests.fakes.slack_api import Call
from tests.scenario.conftest import TEAM, BotDriver, Reply, eventually

USER = "U0001"


async def open_home(
    bot: BotDriver, user: str = USER, *, count: int | None = None
) -> dict[str, Any]:
    """Open the Home tab; return the view published for it."""
    dm = bot.slack.surfaces.open_im(user).id
    before = len(bot.slack.calls_to("views.publish"))
    await bot.event(surface.app_home_opened_event(user=user, channel=dm))
    return await published(bot, user, after=before if count is None else count)


async def published(bot: BotDriver, user: str = USER, *, after: int) -> dict[str, Any]:
    """The Home view of `user` once a views.publish past the first `after` calls succeeded."""
    calls = await bot.slack.wait_for("views.publish", count=after + 1)
    call = calls[after]
    assert call.response.get("ok"), call.response
    assert call.params["user_id"] == user
    view = bot.slack.surfaces.home_of(user)
    assert view is not None
    return view


async def interact(bot: BotDriver, payload: dict[str, Any]) -> Reply:
    reply = await bot.post(payloads.interactivity_body(payload))
    assert reply.status == 200, reply.text
    return reply


async def press_in_home(
    bot: BotDriver, view: dict[str, Any], action_id: str, user: str = USER
) -> dict[str, Any]:
    """Press a Home tab button; return the view published after it."""
    before = len(bot.slack.calls_to("views.publish"))
    trigger = bot.slack.surfaces.issue_trigger(user)
    await interact(bot, surface.press(view, action_id, user=user, trigger_id=trigger))
    return await published(bot, user, after=before)


async def opened_modal(bot: BotDriver, *, after: int = 0) -> tuple[Call, dict[str, Any]]:
    """The views.open call past the first `after`, and the modal as the fake stored it."""
    calls = await bot.slack.wait_for("views.open", count=after + 1)
    call = calls[after]
    assert call.response.get("ok"), call.response
    return call, call.response["view"]


async def settings_via_command(
    bot: BotDriver, *, user: str = USER, channel: str = "C0001"
) -> dict[str, Any]:
    """`/stretch settings` in the channel; return the modal it opened."""
    before = len(bot.slack.calls_to("views.open"))
    body = payloads.slash_command_body(
        text="settings",
        user_id=user,
        channel_id=channel,
        team_id=TEAM,
        response_url=bot.slack.response_url(f"settings-{before}"),
        trigger_id=bot.slack.surfaces.issue_trigger(user),
    )
    reply = await bot.post(body)
    assert reply.status == 200 and payloads.ack_answer(reply.text) is None, reply.text
    _call, view = await opened_modal(bot, after=before)
    return view


async def submit(
    bot: BotDriver, view: dict[str, Any], values: dict[str, Any], *, user: str = USER
) -> dict[str, Any] | None:
    """Submit the modal with `values` (by block id); return the ack's JSON (None: empty ack,
    the modal closes)."""
    reply = await interact(bot, surface.view_submission(view, values, user=user))
    return json.loads(reply.text) if reply.text else None


async def dm(bot: BotDriver, text: str, *, user: str = USER, **kw: Any) -> str:
    """Write the bot a DM; return the DM channel's id."""
    channel = bot.slack.surfaces.open_im(user).id
    await bot.event(surface.message_im_event(user=user, text=text, channel=channel, **kw))
    return channel


async def answer_in(bot: BotDriver, channel: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait for `count` messages the bot posted in `channel`; return them."""

    async def posted() -> list[dict[str, Any]] | None:
        messages = bot.slack.messages_in(channel)
        return messages if len(messages) >= count else None

    result: list[dict[str, Any]] = await eventually(posted, what=f"{count} message(s) in {channel}")
    return result


def texts(view: dict[str, Any]) -> str:
    """Every text of a view, joined (to look for words in it)."""
    return json.dumps(view.get("blocks", []), ensure_ascii=False)


def action_ids(view: dict[str, Any]) -> list[str]:
    found = []
    for block in view.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if "action_id" in element:
                found.append(element["action_id"])
    return found
