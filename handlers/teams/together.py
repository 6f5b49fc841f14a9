"""Group break cards in Teams: "I'm in" (`Action.Execute` verb `together_join`) and Done (verb
`together_done`). The presser sees the refreshed card in the invoke response (or a message
saying why not); everyone else sees the coalesced card update."""

from __future__ import annotations

import logging
from http import HTTPStatus

from microsoft_agents.activity import AdaptiveCardInvokeResponse, ContentTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot import replies
from bot.group_breaks import PressAnswer
from bot.i18n import _
from bot.services import Services
from handlers.teams import activities, cards, team_cards
from handlers.teams.chat import TeamsChat

logger = logging.getLogger("stretchbot.teams")


def _message(text: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(
        status_code=HTTPStatus.OK, type=ContentTypes.message, value=text
    )


def register(app: AgentApplication[TurnState], services: Services, chat: TeamsChat) -> None:
    async def answer(context: TurnContext, *, joining: bool) -> AdaptiveCardInvokeResponse:
        activity = context.activity
        channel = activities.channel_key(activity)
        person = activities.person_id(activity.from_property)
        message_id = activities.clean_id(activity.reply_to_id)
        if channel is None or person is None or message_id is None:
            return _message(_(replies.SORRY))
        try:
            press: PressAnswer
            if joining:
                press = await services.group_breaks.join(
                    channel=channel, message_id=message_id, person_id=person
                )
            else:
                press = await services.group_breaks.finish(
                    channel=channel, message_id=message_id, person_id=person
                )
            group = press.group
            accepted = group is not None and (person in group.joiners if joining else group.done)
            if group is None or not accepted:
                return _message(press.text)
            card = await chat.together_card(group, now=services.clock())
        except Exception:
            logger.exception("teams.together_failed channel=%s", channel.channel_id)
            return _message(_(replies.SORRY))
        return AdaptiveCardInvokeResponse(
            status_code=HTTPStatus.OK, type=cards.CARD_CONTENT_TYPE, value=card
        )

    @app.adaptive_card.action_execute(team_cards.JOIN_VERB)
    async def join_pressed(
        context: TurnContext, state: TurnState, data: object
    ) -> AdaptiveCardInvokeResponse:
        return await answer(context, joining=True)

    @app.adaptive_card.action_execute(team_cards.FINISH_VERB)
    async def done_pressed(
        context: TurnContext, state: TurnState, data: object
    ) -> AdaptiveCardInvokeResponse:
        return await answer(context, joining=False)
