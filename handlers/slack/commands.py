"""The /stretch slash command: answer in the ack when that is quick, else ack and answer later.

Slack waits 3 s for the ack (the HTTP answer to its request), and shows a text in the ack body
to the person who typed the command, just like a post to the command's response_url:

- An answer known without I/O (a rate-limit refusal, a parse error) is the ack body.
- A private read (a command whose `read_only` is set in its module under bot/commands/:
  `status`, `stats`, `help`, `admins-only` without on/off) is answered in the ack body when its answer is ready within
  `ACK_BUDGET_SECONDS`; otherwise (a slow database) the command is acked empty and the answer,
  whose work keeps running, follows through the response_url.
- Everything else (schedule changes, `now`, leaderboards: writes and public posts) is acked at
  once and answered through the response_url.

Command work runs at most `COMMAND_WORKERS` at a time per kind (private reads, the rest), so a
burst waits in memory instead of crowding the event loop ahead of new acks or the database
pool, and a slow Slack call in a write never delays a read. Answers to response_urls go through
the bot's shared aiohttp session (keep-alive) instead of Bolt's `respond`, which opens a new
session and TCP connection for every answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands.base import Command, CommandContext, Reply
from bot.i18n import N_, _
from bot.replies import SORRY
from bot.services import Services
from handlers.slack.acked import AckedWork
from handlers.slack.blocks import RUN_ACTION_PREFIX, reply_message
from handlers.slack.fields import command_context, pressed_context

logger = logging.getLogger("stretchbot.slack")

ACK_BUDGET_SECONDS = 1.5  # a private read answered later than this goes to the response_url
COMMAND_WORKERS = 8  # commands of one kind (private reads / the rest) run at once
RESPOND_TIMEOUT_SECONDS = 30.0  # one response_url post, retries included


class Responder:
    """Posts answers to response_urls, all over one aiohttp session (None: a session per
    post, as Bolt's `respond` does)."""

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self.session = session

    async def __call__(
        self, response_url: str, reply: Reply, *, replace_original: bool = False
    ) -> None:
        if not response_url:
            logger.warning("a /stretch command without a response_url; its answer is dropped")
            return
        client = AsyncWebhookClient(response_url, session=self.session, logger=logger)
        body = message(reply)
        body["replace_original"] = replace_original
        try:
            async with asyncio.timeout(RESPOND_TIMEOUT_SECONDS):
                response = await client.send_dict(body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not post a /stretch answer to its response_url: %r", exc)
            return
        if response.status_code != 200:
            logger.warning(
                "the response_url refused a /stretch answer: %s %s",
                response.status_code,
                (response.body or "")[:200],
            )


message = reply_message
UNREADABLE = N_("I couldn't tell who sent this or where, so I didn't do anything.")


# Opens the settings form of a command's answer with the request's trigger_id; False when it
# could not (then the answer's text and buttons go to the response_url instead).
FormOpener = Callable[[CommandContext, Reply, str], Awaitable[bool]]


def register(
    app: AsyncApp,
    services: Services,
    *,
    respond: Responder,
    work: AckedWork,
    open_form: FormOpener | None = None,
) -> None:
    reads = asyncio.Semaphore(COMMAND_WORKERS)
    writes = asyncio.Semaphore(COMMAND_WORKERS)

    async def execute(
        ctx: CommandContext, command: Command, slots: asyncio.Semaphore
    ) -> Reply | None:
        async with slots:
            try:
                return await services.commands.execute(ctx, command)
            except Exception:
                logger.exception(
                    "/stretch failed team=%s channel=%s",
                    ctx.channel.team_id,
                    ctx.channel.channel_id,
                )
                return Reply(_(SORRY))

    async def answer_later(
        ctx: CommandContext,
        command: Command,
        response_url: str,
        *,
        replace: bool = False,
        trigger_id: object = None,
    ) -> None:
        reply = await execute(ctx, command, writes)
        if reply is None:
            return
        opened = (
            (reply.form is not None or reply.exercise_form)
            and open_form is not None
            and isinstance(trigger_id, str)
            and await open_form(ctx, reply, trigger_id)
        )
        if not opened:
            await respond(response_url, reply, replace_original=replace and not reply.public)

    @app.command("/stretch")
    async def stretch_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        ctx = command_context(
            team=command.get("team_id"),
            channel=command.get("channel_id"),
            user=command.get("user_id"),
            enterprise=command.get("enterprise_id"),
        )
        if ctx is None:
            await ack(**message(Reply(_(UNREADABLE))))
            return
        response_url = str(command.get("response_url") or "")
        text = str(command.get("text") or "")
        checked = services.commands.check(ctx, text)
        if isinstance(checked, Reply):
            await ack(**message(checked))
            return
        if not checked.read_only:
            await ack()
            await work.run(
                f"/stretch {text}",
                response_url,
                answer_later(ctx, checked, response_url, trigger_id=command.get("trigger_id")),
            )
            return
        # Past the budget a timer acks (empty) and the work goes on: its answer then goes to
        # the response_url. A timer, not a task plus asyncio.wait: this is every status
        # command's path, and that pair cost more CPU here than the status read itself.
        late: list[asyncio.Task[BoltResponse]] = []
        timer = asyncio.get_running_loop().call_later(
            ACK_BUDGET_SECONDS, lambda: late.append(asyncio.ensure_future(ack()))
        )
        try:
            reply = await execute(ctx, checked, reads)
        finally:
            timer.cancel()
        if not late:
            await (ack() if reply is None else ack(**message(reply)))
            return
        await late[0]
        if reply is not None:
            await respond(response_url, reply)

    @app.action(re.compile(f"^{RUN_ACTION_PREFIX}_"))
    async def button_pressed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A reply's button: run its command as the person who pressed it."""
        await ack()
        ctx = pressed_context(body, context)
        response_url = str(body.get("response_url") or "")
        if ctx is None:
            logger.info("a button press without a readable team, channel or user was ignored")
            return
        text = str(action.get("value") or "")
        checked = services.commands.check(ctx, text)
        if isinstance(checked, Reply):
            await respond(response_url, checked)
            return
        # An answer replaces the message the button was on only when that message was the
        # presser's own (ephemeral) one, like a confirmation; a button on a message everyone
        # sees (a nudge, a hello) answers the presser without touching it.
        container = body.get("container")
        ephemeral = isinstance(container, dict) and container.get("is_ephemeral") is True
        await work.run(
            f"/stretch {text} (button)",
            response_url,
            answer_later(
                ctx, checked, response_url, replace=ephemeral, trigger_id=body.get("trigger_id")
            ),
        )
