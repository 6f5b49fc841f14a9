"""The nudge card's Done button (`Action.Execute`, verb `done`): log the break once and show
who has moved so far, in the invoke response and, for everyone, by updating the card."""

from __future__ import annotations

import logging
from http import HTTPStatus

import aiohttp
from microsoft_agents.activity import AdaptiveCardInvokeResponse, ContentTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot import replies
from bot.commands.base import CommandContext
from bot.i18n import N_, _, use_locale
from bot.languages import channel_language
from bot.replies import NOT_A_NUDGE
from bot.services import Services
from handlers.teams import activities, cards
from handlers.teams.chat import TeamsChat
from handlers.teams.surface_cards import settings_card

logger = logging.getLogger("stretchbot.teams")

SORRY = N_("Sorry, I couldn't log that just now. Please press Done again in a minute.")


def _message(text: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(
        status_code=HTTPStatus.OK, type=ContentTypes.message, value=text
    )


def register(app: AgentApplication[TurnState], services: Services, chat: TeamsChat) -> None:
    directory = chat.directory

    @app.adaptive_card.action_execute(cards.RUN_VERB)
    async def button_pressed(
        context: TurnContext, state: TurnState, data: object
    ) -> AdaptiveCardInvokeResponse:
        """A reply's button: run its command as the person who pressed it; the answer
        replaces the buttons."""
        activity = context.activity
        channel = activities.channel_key(activity)
        person = activities.person_id(activity.from_property)
        command = data.get("command") if isinstance(data, dict) else None
        if channel is None or person is None or not isinstance(command, str):
            return _message(_(replies.SORRY))
        try:
            reply = await services.commands.run(CommandContext(channel, person), command)
        except Exception:
            logger.exception("teams.button_failed channel=%s", channel.channel_id)
            return _message(_(replies.SORRY))
        text = reply.text if reply is not None else _("Done.")
        if reply is not None and reply.form is not None:  # "Edit schedule": the form itself
            card = settings_card(reply.form)
        else:
            card = cards.answer_card(text)
        return AdaptiveCardInvokeResponse(
            status_code=HTTPStatus.OK, type=cards.CARD_CONTENT_TYPE, value=card
        )

    @app.adaptive_card.action_execute(cards.DONE_VERB)
    async def done_pressed(
        context: TurnContext, state: TurnState, data: object
    ) -> AdaptiveCardInvokeResponse:
        activity = context.activity
        channel = activities.channel_key(activity)
        person = activities.person_id(activity.from_property)
        message_id = activity.reply_to_id
        if channel is None or person is None or not message_id:
            return _message(_(NOT_A_NUDGE))
        try:
            outcome = await services.breaks.log_break(
                channel=channel, message_id=message_id, person_id=person, mark="button"
            )
            key = data.get("exercise") if isinstance(data, dict) else None
            exercise = await services.exercises.find(channel, str(key or "")[:64])
            if outcome.nudge_id is None or exercise is None:
                return _message(
                    _(NOT_A_NUDGE) if outcome.nudge_id is None else _("Break logged. Nice! 💪")
                )
            names, unnamed = await directory.movers(channel, message_id)
        except Exception:
            logger.exception("teams.done_failed channel=%s", channel.channel_id)
            return _message(_(SORRY))
        # The card is the channel's: in its language, like the nudge it replaces.
        where = await services.storage.channels.get(channel)
        with use_locale(channel_language(where)):
            card = cards.nudge_card(
                exercise, names, unnamed, image_url=chat.pictures.url_for(exercise)
            )
            summary = cards.nudge_summary(exercise)
        if outcome.change.changed:
            # The invoke response refreshes the card for the person who pressed; the update
            # shows everyone in the channel who has moved.
            update = cards.card_activity(card, summary=summary)
            update.id = message_id
            await chat.limiter.acquire(channel.channel_id)
            try:
                await context.update_activity(update)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("teams.card_update_failed channel=%s: %r", channel.channel_id, exc)
        return AdaptiveCardInvokeResponse(
            status_code=HTTPStatus.OK, type=cards.CARD_CONTENT_TYPE, value=card
        )
