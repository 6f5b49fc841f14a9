"""The HTTP edge in front of Bolt: `POST /slack/events`.

Bolt answers a signed body it cannot parse with a 500. A client's mistake must get a 4xx, so
requests are checked here first: signature (401), then a body Bolt can parse (400). What a
client can repeat at will (a body cut off mid-way, a payload Bolt chokes on) is logged as one
rate-limited WARNING line, never a traceback per request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.logs import raised_at, warn_limited

logger = logging.getLogger("stretchbot.slack")

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# What Bolt raises when a signed payload has a field of the wrong type or shape (it indexes
# into payloads as documented): the sender's mistake, not a bug to trace.
PAYLOAD_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError)


def parse_error(body: str, content_type: str) -> str | None:
    """None when Bolt can parse `body`; otherwise what is wrong with it."""
    try:
        if content_type == JSON:
            return None if isinstance(json.loads(body), dict) else "JSON body is not an object"
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, RecursionError) as exc:
        return f"malformed body: {type(exc).__name__}"
    payload = form.get("payload")
    if payload is None:
        return (
            None
            if form.get("command") or form.get("ssl_check")
            else "form body has no command or payload"
        )
    try:
        return None if isinstance(json.loads(payload[0]), dict) else "payload is not a JSON object"
    except (ValueError, RecursionError):
        return "payload is not valid JSON"


def events_handler(
    app: AsyncApp, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        try:
            raw = await request.read()
        except (ConnectionError, BadHttpMessage) as exc:
            # The client hung up or broke the framing mid-body: nothing to answer, nothing to
            # fix on our side, and anyone can do it in a loop.
            warn_limited(
                logger,
                "incomplete bodies on /slack/events",
                "a request to /slack/events ended before its body was complete (%s)",
                type(exc).__name__,
            )
            return web.json_response({"error": "incomplete body"}, status=400)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (timestamp.isdigit() and len(timestamp) < 16) or not verifier.is_valid(
            body=body, timestamp=timestamp, signature=signature
        ):
            return web.json_response({"error": "invalid signature"}, status=401)
        content_type = request.content_type
        if content_type not in (FORM, JSON):
            return web.json_response(
                {"error": f"unsupported content type {content_type}"}, status=415
            )
        reason = parse_error(body, content_type)
        if reason is not None:
            logger.info("rejected a signed request: %s", reason)
            return web.json_response({"error": reason}, status=400)
        try:
            # Building the request already reads the payload (team, enterprise, user ...) and
            # raises on fields of the wrong type, e.g. `"authorizations": false`.
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
            bolt_response = await app.async_dispatch(bolt_request)
        except PAYLOAD_SHAPE_ERRORS as exc:
            warn_limited(
                logger,
                "signed payloads Bolt could not read",
                "Bolt could not read a signed payload: %s at %s",
                type(exc).__name__,
                raised_at(exc),
            )
            return web.json_response({"error": "could not process the request"}, status=400)
        except Exception:
            logger.exception("Bolt failed on a verified request")
            return web.json_response({"error": "could not process the request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    return slack_events
