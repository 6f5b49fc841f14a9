"""The settings card's Save button (`Action.Execute`, verb `settings`): the values Teams sends
become the same /stretch commands as typed (bot/settings.py); a mistake or a refusal comes back
in the card next to its input and changes nothing, a save posts its confirmation in the
channel and turns the card into what was done."""

from __future__ import annotations

import logging
from http import HTTPStatus

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot import replies
from bot.commands.base import CommandContext
from bot.i18n import _
from bot.services import Services
from bot.settings_form import SettingsForm
from handlers.teams import activities, cards
from handlers.teams.chat import TeamsChat
from handlers.teams.surface_cards import SETTINGS_VERB, read_values, settings_card

logger = logging.getLogger("stretchbot.teams")


def _card(card: dict[str, object]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(
        status_code=HTTPStatus.OK, type=cards.CARD_CONTENT_TYPE, value=card
    )


def register(app: AgentApplication[TurnState], services: Services, chat: TeamsChat) -> None:
    parts = services.settings.parts
    inputs = tuple(item for part in parts for item in part.inputs)

    @app.adaptive_card.action_execute(SETTINGS_VERB)
    async def saved(
        context: TurnContext, state: TurnState, data: object
    ) -> AdaptiveCardInvokeResponse:
        activity = context.activity
        channel = activities.channel_key(activity)
        person = activities.person_id(activity.from_property)
        if channel is None or person is None:
            return _card(cards.answer_card(_(replies.SORRY)))
        values = read_values(inputs, data)
        form = SettingsForm(channel=channel, values=values, parts=parts)
        ctx = CommandContext(channel, person)
        try:
            submission = services.settings.read(values)
            if submission.errors:
                return _card(settings_card(form, submission.errors))
            refusal = await services.settings.refusal(ctx)
            if refusal is not None:
                return _card(settings_card(form, {inputs[0].key: refusal.text}))
            outcome = await services.settings.save(ctx, submission)
        except Exception:
            logger.exception("teams.settings_failed channel=%s", channel.channel_id)
            return _card(cards.answer_card(_(replies.SORRY)))
        public = outcome.public
        if public is not None:
            names = await chat.directory.names(channel.team_id, cards.mentioned_people(public.text))
            name = activities.display_name(activity.from_property)
            if name:
                names[person] = name
            await context.send_activity(cards.reply_activity(public.text, names))
        private = outcome.private
        done = (
            private.text if private is not None else _("Saved: the confirmation is in the channel.")
        )
        return _card(cards.answer_card(done))
