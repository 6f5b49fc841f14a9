"""A fake Bot Connector (the Teams side of the Bot Framework REST API) on 127.0.0.1.

The real Agents SDK connector client talks to it over HTTP: activities the tests send to the
bot's `/api/messages` carry `serviceUrl` = this server, and proactive posts use the stored one.
It records, with Teams' documented shapes (https://learn.microsoft.com/azure/bot-service/rest-api/
bot-framework-rest-connector-api-reference):

- `POST v3/conversations/{id}/activities`: a new message, answered `201 {"id": ...}`;
- `POST v3/conversations/{id}/activities/{activityId}`: a reply, answered the same way;
- `PUT v3/conversations/{id}/activities/{activityId}`: an update (the Done card refresh);
- `POST v3/conversations`: a new (personal) conversation, answered `201 {"id": ...}`;
- `GET v3/conversations/{id}/members/{memberId}`: one member as a `TeamsChannelAccount`
  (`id`, `name`, `aadObjectId`, `email`, `userPrincipalName`, ...) from `members`, or 404
  `MemberNotFoundInConversation`.

Failures a test selects per conversation: Teams' throttling (429 with Retry-After, 412), passing
trouble (502/504) and a bot that is no longer in the conversation (403
`BotNotInConversationRoster`, 404 `ConversationNotFound`).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class ConnectorCall:
    """One request as the fake received it."""

    method: str  # "POST" | "PUT" | "GET"
    kind: str  # "send" | "reply" | "update" | "create_conversation" | "get_member"
    conversation_id: str | None
    activity_id: str | None
    body: JsonDict
    headers: dict[str, str]
    status: int
    response: JsonDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 300


@dataclass
class _Failure:
    status: int
    code: str
    times: int | None  # None: until cleared
    retry_after: float | None = None


class FakeConnector:
    """`async with FakeConnector() as connector:` ... `connector.service_url`."""

    def __init__(self) -> None:
        self.calls: list[ConnectorCall] = []
        self._ids = itertools.count(1763884800000)
        self._conversations = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = {}
        self.fail_creates = 0  # how many `POST v3/conversations` to refuse (403)
        self.members: dict[str, JsonDict] = {}  # Teams user id (29:...) -> TeamsChannelAccount
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._changed = asyncio.Condition()

    # ---- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._send)
        app.router.add_post(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._reply
        )
        app.router.add_put(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._update
        )
        app.router.add_get(
            "/v3/conversations/{conversation_id}/members/{member_id}", self._get_member
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self._port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/"

    # ---- failure modes ------------------------------------------------------------------------

    def fail(
        self,
        conversation_id: str,
        *,
        status: int,
        code: str = "",
        times: int | None = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` sends/replies/updates in the conversation with `status`."""
        self._failures.setdefault(conversation_id, []).append(
            _Failure(status, code or _DEFAULT_CODES.get(status, "Error"), times, retry_after)
        )

    def add_member(self, teams_id: str, name: str, aad_object_id: str) -> None:
        """A member the connector can describe (`GET .../members/{teams_id}`)."""
        self.members[teams_id] = {
            "id": teams_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "givenName": name.split(" ")[0],
            "email": f"{aad_object_id}@example.com",
            "userPrincipalName": f"{aad_object_id}@example.com",
            "tenantId": "tenant-0001",
            "userRole": "user",
        }

    def remove_bot(self, conversation_id: str) -> None:
        """The bot was removed: every later post there gets 403 BotNotInConversationRoster."""
        self.fail(conversation_id, status=403, code="BotNotInConversationRoster", times=None)

    def _failure(self, conversation_id: str) -> _Failure | None:
        base = conversation_id.split(";messageid=", 1)[0]
        for key in (conversation_id, base):
            queue = self._failures.get(key)
            if not queue:
                continue
            failure = queue[0]
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
            return failure
        return None

    # ---- what was received --------------------------------------------------------------------

    def of_kind(self, *kinds: str, ok: bool = True) -> list[ConnectorCall]:
        return [c for c in self.calls if c.kind in kinds and (c.ok or not ok)]

    def messages(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        """Delivered new messages and replies, optionally in one conversation (any thread)."""
        return [
            c
            for c in self.of_kind("send", "reply")
            if conversation_id is None
            or (c.conversation_id or "").split(";messageid=", 1)[0] == conversation_id
        ]

    def cards(self, conversation_id: str | None = None) -> list[ConnectorCall]:
        return [c for c in self.messages(conversation_id) if card_of(c.body) is not None]

    async def wait_for(
        self, kind: str, *, count: int = 1, timeout: float = 5.0
    ) -> list[ConnectorCall]:
        """Wait until `count` calls of `kind` (any status) arrived; return them."""

        def matching() -> list[ConnectorCall]:
            return [c for c in self.calls if c.kind == kind]

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(matching()) >= count), timeout
            )
        return matching()

    # ---- handlers -----------------------------------------------------------------------------

    async def _record(
        self, request: web.Request, kind: str, ok_status: int, response: JsonDict
    ) -> web.Response:
        conversation_id = request.match_info.get("conversation_id")
        activity_id = request.match_info.get("activity_id")
        body = await request.json()
        failure = self._failure(conversation_id) if conversation_id else None
        if kind == "create_conversation" and self.fail_creates > 0:
            self.fail_creates -= 1
            failure = _Failure(403, "Forbidden", 1)
        headers = (
            {"Retry-After": str(failure.retry_after)} if failure and failure.retry_after else {}
        )
        status = failure.status if failure else ok_status
        answer: JsonDict = (
            {"error": {"code": failure.code, "message": f"fake connector: {failure.code}"}}
            if failure
            else response
        )
        self.calls.append(
            ConnectorCall(
                method=request.method,
                kind=kind,
                conversation_id=conversation_id,
                activity_id=activity_id,
                body=body,
                headers=dict(request.headers),
                status=status,
                response=answer,
            )
        )
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(answer, status=status, headers=headers)

    async def _get_member(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        member = self.members.get(request.match_info["member_id"])
        failure = self._failure(conversation_id)
        if failure is not None:
            status, answer = failure.status, _error_body(failure.code)
        elif member is None:
            status, answer = 404, _error_body("MemberNotFoundInConversation")
        else:
            status, answer = 200, member
        self.calls.append(
            ConnectorCall(
                method="GET",
                kind="get_member",
                conversation_id=conversation_id,
                activity_id=request.match_info["member_id"],
                body={},
                headers=dict(request.headers),
                status=status,
                response=answer,
            )
        )
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(answer, status=status)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send", 201, {"id": str(next(self._ids))})

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply", 201, {"id": str(next(self._ids))})

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update", 200, {"id": request.match_info["activity_id"]})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        conversation = f"a:personal-{next(self._conversations)}"
        return await self._record(request, "create_conversation", 201, {"id": conversation})


_DEFAULT_CODES = {
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    502: "BadGateway",
    504: "GatewayTimeout",
}


def _error_body(code: str) -> JsonDict:
    return {"error": {"code": code, "message": f"fake connector: {code}"}}


def card_of(activity: JsonDict) -> JsonDict | None:
    """The Adaptive Card an activity carries, if any."""
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content = attachment.get("content")
            return content if isinstance(content, dict) else None
    return None


def card_text(card: JsonDict) -> str:
    """All TextBlock texts of a card, one per line."""
    return "\n".join(
        str(block.get("text", ""))
        for block in card.get("body", [])
        if block.get("type") == "TextBlock"
    )
