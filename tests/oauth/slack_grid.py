"""Several fake Slack workspaces behind one Web API URL, the way slack.com serves them all.

`FakeSlackGrid` is a `FakeSlack` server whose Web API routes each call to the workspace its
token belongs to: each workspace is a separate `FakeSlack` (its own channels, users, messages
and recorded `calls`, with the token every call used). Tokens come from OAuth installs: a test
asks the grid for the `code` Slack would hand the installer's browser (`install_code`), and the
bot's `oauth.v2.access` with that code gets the workspace's new bot token.

Workspaces may share channel and user ids (`C0001`, `U0001` in every one) and even message
timestamps: the isolation tests rely on those collisions. An Enterprise Grid organization-wide
install (`org_install_code`) hands out one token for every workspace of the organization;
calls made with it name their workspace with `team_id`, as Slack requires.
"""

from __future__ import annotations

import base64
import contextvars
import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.slack_api import DEFAULT_SCOPES, Call, FakeSlack, JsonDict, _error, _Reply

_numbers = itertools.count(1)
# The Authorization header of the request being handled: slack_sdk sends oauth.v2.access's
# client_id/client_secret as HTTP Basic auth, which FakeSlack's dispatch does not see.
_authorization: contextvars.ContextVar[str] = contextvars.ContextVar("authorization", default="")


@dataclass
class _Grant:
    """What an install code stands for."""

    token: str
    team_id: str | None  # None: an organization-wide install
    enterprise_id: str | None
    installer: str


class FakeSlackGrid(FakeSlack):
    """One Web API endpoint (`api_url`) for many fake workspaces; see the module docstring."""

    def __init__(self) -> None:
        super().__init__(team_id="TGRID", team_name="Slack")
        self.workspaces: dict[str, FakeSlack] = {}
        self.enterprise_of: dict[str, str | None] = {}
        self._grants: dict[str, _Grant] = {}
        self._token_team: dict[str, str] = {}  # workspace token -> team id
        self._org_tokens: dict[str, str] = {}  # org-wide token -> enterprise id

    def add_workspace(
        self, team_id: str, *, name: str, enterprise_id: str | None = None
    ) -> FakeSlack:
        """A workspace with a public channel C0001 (the bot not in it yet) and user U0001."""
        workspace = FakeSlack(team_id=team_id, team_name=name, team_domain=name.lower())
        workspace.add_channel("C0001", name="general")
        workspace.set_user("U0001", tz="Europe/Berlin")
        self.workspaces[team_id] = workspace
        self.enterprise_of[team_id] = enterprise_id
        return workspace

    def install_code(self, team_id: str, *, installer: str = "U0001") -> str:
        """The `code` Slack would give the browser after someone approves the install."""
        number = next(_numbers)
        code = f"code-{team_id}-{number}"
        self._grants[code] = _Grant(
            token=f"xoxb-{team_id.lower()}-{number}",
            team_id=team_id,
            enterprise_id=self.enterprise_of[team_id],
            installer=installer,
        )
        return code

    def org_install_code(self, enterprise_id: str, *, installer: str = "U0001") -> str:
        """The `code` of an organization-wide install for every workspace of `enterprise_id`."""
        number = next(_numbers)
        code = f"code-{enterprise_id}-{number}"
        self._grants[code] = _Grant(
            token=f"xoxb-{enterprise_id.lower()}-org-{number}",
            team_id=None,
            enterprise_id=enterprise_id,
            installer=installer,
        )
        return code

    def token_of(self, team_id: str) -> str:
        """The newest workspace token issued for `team_id`."""
        return [token for token, team in self._token_team.items() if team == team_id][-1]

    def calls_in(self, team_id: str, method: str) -> list[Call]:
        return self.workspaces[team_id].calls_to(method)

    def posts_in(self, team_id: str, channel: str = "C0001") -> list[JsonDict]:
        return self.workspaces[team_id].messages_in(channel)

    # -- routing ---------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        _authorization.set(request.headers.get("Authorization", ""))
        return await super()._handle_api(request)

    def _dispatch(self, method: str, params: JsonDict, token: str | None) -> _Reply:
        fault = self._take_fault(method)
        if fault is not None:
            return fault
        if method == "oauth.v2.access":
            return self._oauth_v2_access(params, token)
        if not token:
            return _error("not_authed")
        if token in self.revoked_tokens:
            return _error("token_revoked")
        workspace, enterprise_id = self._route(token, params)
        if workspace is None:
            return _error("invalid_auth")
        reply = workspace._dispatch(method, params, token)
        if method == "auth.test" and reply.body.get("ok"):
            reply.body["enterprise_id"] = enterprise_id
            reply.body["is_enterprise_install"] = token in self._org_tokens
        workspace.calls.append(
            Call(
                method=method,
                params=dict(params),
                token=token,
                headers={},
                status=reply.status,
                response=reply.body,
            )
        )
        return reply

    def _route(self, token: str, params: JsonDict) -> tuple[FakeSlack | None, str | None]:
        if token in self._token_team:
            team = self._token_team[token]
            return self.workspaces[team], self.enterprise_of[team]
        enterprise_id = self._org_tokens.get(token)
        if enterprise_id is None:
            return None, None
        members = [t for t, e in self.enterprise_of.items() if e == enterprise_id]
        team = str(params.get("team_id") or (members[0] if members else ""))
        if team not in members:
            return None, enterprise_id
        return self.workspaces[team], enterprise_id

    def _oauth_v2_access(self, params: JsonDict, token: str | None) -> _Reply:
        basic = _authorization.get()
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", secret)
        grant = self._grants.pop(str(params.get("code", "")), None)
        if grant is None or not params.get("client_id") or not params.get("client_secret"):
            return _error("invalid_code")
        if grant.team_id is None:
            assert grant.enterprise_id is not None
            self._org_tokens[grant.token] = grant.enterprise_id
            team: Any = None
            bot_user = "UBOT"
        else:
            self._token_team[grant.token] = grant.team_id
            workspace = self.workspaces[grant.team_id]
            team = {"id": grant.team_id, "name": workspace.team_name}
            bot_user = workspace.bot_user_id
        enterprise = (
            {"id": grant.enterprise_id, "name": f"Org {grant.enterprise_id}"}
            if grant.enterprise_id
            else None
        )
        body = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": grant.installer},
            "scope": ",".join(DEFAULT_SCOPES),
            "token_type": "bot",
            "access_token": grant.token,
            "bot_user_id": bot_user,
            "team": team,
            "enterprise": enterprise,
            "is_enterprise_install": grant.team_id is None,
        }
        return _Reply(json.loads(json.dumps(body)))
