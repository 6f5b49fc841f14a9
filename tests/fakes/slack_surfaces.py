"""The fake Slack's surfaces: `views.publish`, `views.open`, `views.update`,
`users.conversations` and `conversations.open`, as Slack documents them.

- https://docs.slack.dev/reference/methods/views.publish (`user_id`, `view`, `hash`):
  `invalid_arguments` with `response_metadata.messages` for a view over Block Kit's limits,
  `hash_conflict`, `user_not_found`;
- https://docs.slack.dev/reference/methods/views.open (`trigger_id`, `view`): a trigger works
  once, for 3 seconds (`expired_trigger_id`, `exchanged_trigger_id`, `invalid_trigger_id`);
- https://docs.slack.dev/reference/methods/views.update (`view_id` or `external_id`, `hash`):
  `not_found`, `hash_conflict`;
- https://docs.slack.dev/reference/methods/users.conversations (`user`, `types`,
  `exclude_archived`, `limit` < 1000, `cursor`): cursor pagination through
  `response_metadata.next_cursor`; non-public channels only where the bot is a member too;
- https://docs.slack.dev/reference/methods/conversations.open (`users` or `channel`): the IM.

429s come from `FakeSlack.rate_limit(method)` like every other method. Posting to a user id
(`chat.postMessage channel=U123`) posts into the app's DM with them, as Slack does.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.block_kit import view_problems

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeChannel, FakeSlack, _Reply

JsonDict = dict[str, Any]
TRIGGER_SECONDS = 3.0
_TRIGGER = re.compile(r"\d{1,20}\.\d{1,20}\.[0-9a-f]{1,64}")
_view_numbers = itertools.count(1)


class SurfacesApi:
    """State and methods of the views and membership APIs of one fake workspace."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.views: dict[str, JsonDict] = {}  # view id -> the view as stored
        self.home_views: dict[str, str] = {}  # user id -> their Home view's id
        self.modals: dict[str, list[str]] = {}  # user id -> their open modal stack (view ids)
        self.triggers: dict[str, tuple[str | None, float]] = {}  # id -> (user, issued at)
        self.used_triggers: set[str] = set()
        # Triggers not issued with `issue_trigger` (random ones in payload builders) work too,
        # once, unless this is set.
        self.strict_triggers = False
        self.members: dict[str, set[str]] = {}  # channel id -> its human members
        self.ims: dict[str, str] = {}  # user id -> the app's DM channel with them
        self.page_size: int | None = None  # users.conversations: at most this many per page

    def handlers(self) -> dict[str, Callable[[JsonDict, str | None], _Reply]]:
        return {
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "users.conversations": self._users_conversations,
            "conversations.open": self._conversations_open,
        }

    # -- what tests set up and read -----------------------------------------------------------

    def issue_trigger(self, user: str | None = None, *, age: float = 0.0) -> str:
        """A trigger_id as Slack puts in an interaction payload, issued `age` seconds ago."""
        trigger = f"{int(time.time())}.{next(_view_numbers):012d}.{'ab' * 16}"
        self.triggers[trigger] = (user, time.monotonic() - age)
        return trigger

    def join(self, user: str, *channel_ids: str) -> None:
        """`user` is a member of these channels (registered with `add_channel`)."""
        for channel in channel_ids:
            self.members.setdefault(channel, set()).add(user)

    def open_im(self, user: str) -> FakeChannel:
        """The app's DM with `user` (made on first use)."""
        channel_id = self.ims.get(user)
        if channel_id is None:
            channel_id = self.ims[user] = "D" + user[1:].upper().ljust(8, "0")[:10]
            channel = self.slack.add_channel(channel_id, name=channel_id.lower(), member=True)
            channel.is_private = True
        return self.slack.channels[channel_id]

    def home_of(self, user: str) -> JsonDict | None:
        """The Home view last published for `user`."""
        view_id = self.home_views.get(user)
        return self.views.get(view_id) if view_id else None

    def modal_of(self, user: str) -> JsonDict | None:
        """The modal on top of `user`'s stack."""
        stack = self.modals.get(user)
        return self.views[stack[-1]] if stack else None

    def close_modals(self, user: str) -> None:
        """The person submitted or closed their modals (Slack does this after a clear ack)."""
        self.modals.pop(user, None)

    # -- methods ------------------------------------------------------------------------------

    def _view_param(self, params: JsonDict) -> tuple[JsonDict | None, _Reply | None]:
        from tests.fakes.slack_api import _error

        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return None, _error(
                    "invalid_arguments",
                    response_metadata={
                        "messages": ["[ERROR] must be a JSON object [json-pointer:/view]"]
                    },
                )
        if not isinstance(view, dict):
            return None, _error(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] missing required field: view [json-pointer:/view]"]
                },
            )
        problems = view_problems(view)
        if problems:
            return None, _error("invalid_arguments", response_metadata={"messages": problems})
        return view, None

    def _stored(self, view: JsonDict, view_id: str | None = None, **extra: Any) -> JsonDict:
        view_id = view_id or f"V{next(_view_numbers):010d}"
        stored = {
            "id": view_id,
            "team_id": self.slack.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(_view_numbers):08d}",
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.slack.app_id,
            "app_installed_team_id": self.slack.team_id,
            "bot_id": self.slack.bot_id,
            **extra,
        }
        self.views[view_id] = stored
        return stored

    def _views_publish(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _error, _ok

        user = params.get("user_id")
        if not isinstance(user, str) or not user or user in self.slack.missing_users:
            return _error("user_not_found")
        view, problem = self._view_param(params)
        if problem is not None:
            return problem
        assert view is not None
        if view.get("type") != "home":
            return _error(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be home [json-pointer:/view/type]"]},
            )
        current = self.home_of(user)
        given_hash = params.get("hash")
        if given_hash and current is not None and given_hash != current["hash"]:
            return _error("hash_conflict")
        stored = self._stored(view, current["id"] if current else None)
        self.home_views[user] = stored["id"]
        return _ok(view=stored)

    def _views_open(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _error, _ok

        trigger = params.get("trigger_id")
        if not isinstance(trigger, str) or not _TRIGGER.fullmatch(trigger):
            return _error("invalid_trigger_id")
        if trigger in self.used_triggers:
            return _error("exchanged_trigger_id")
        issued = self.triggers.get(trigger)
        if issued is None and self.strict_triggers:
            return _error("invalid_trigger_id")
        user, at = issued if issued is not None else (None, time.monotonic())
        if time.monotonic() - at > TRIGGER_SECONDS:
            return _error("expired_trigger_id")
        view, problem = self._view_param(params)
        if problem is not None:
            return problem
        assert view is not None
        if view.get("type") != "modal":
            return _error(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be modal [json-pointer:/view/type]"]},
            )
        self.used_triggers.add(trigger)
        stored = self._stored(view)
        self.modals.setdefault(user or "", []).append(stored["id"])
        return _ok(view=stored)

    def _views_update(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _error, _ok

        view_id = params.get("view_id")
        external_id = params.get("external_id")
        current = None
        if isinstance(view_id, str):
            current = self.views.get(view_id)
        elif isinstance(external_id, str):
            current = next(
                (v for v in self.views.values() if v["external_id"] == external_id), None
            )
        if current is None:
            return _error("not_found")
        given_hash = params.get("hash")
        if given_hash and given_hash != current["hash"]:
            return _error("hash_conflict")
        view, problem = self._view_param(params)
        if problem is not None:
            return problem
        assert view is not None
        if view.get("type") != current["type"]:
            return _error(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] cannot change a view's type [json-pointer:/view/type]"]
                },
            )
        stored = self._stored(view, current["id"])
        return _ok(view=stored)

    def _users_conversations(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _error, _ok

        user = params.get("user") or self.slack.bot_user_id
        if user in self.slack.missing_users:
            return _error("user_not_found")
        try:
            limit = int(params.get("limit", 100))
        except (TypeError, ValueError):
            return _error("invalid_limit")
        if not 0 < limit < 1000:
            return _error("invalid_limit")
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = str(params.get("exclude_archived", "false")).lower() in ("true", "1")
        start = 0
        cursor = params.get("cursor")
        if cursor:
            try:
                start = int(base64.b64decode(str(cursor)).decode().removeprefix("next:"))
            except (ValueError, UnicodeDecodeError):
                return _error("invalid_cursor")
        found = []
        for channel in self.slack.channels.values():
            if channel.id.startswith("D"):
                continue
            kind = "private_channel" if channel.is_private else "public_channel"
            if kind not in types or (exclude_archived and channel.is_archived):
                continue
            if user == self.slack.bot_user_id:
                member = channel.is_member
            else:
                member = user in self.members.get(channel.id, set())
                if channel.is_private and not channel.is_member:
                    member = False  # non-public: only where the calling bot is a member too
            if member:
                found.append(channel)
        page = min(limit, self.page_size or limit)
        chunk = found[start : start + page]
        more = start + page < len(found)
        next_cursor = base64.b64encode(f"next:{start + page}".encode()).decode() if more else ""
        return _ok(
            channels=[channel.to_dict() for channel in chunk],
            response_metadata={"next_cursor": next_cursor},
        )

    def _conversations_open(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _error, _ok

        channel_id = params.get("channel")
        if channel_id:
            channel = self.slack.channels.get(str(channel_id))
            if channel is None:
                return _error("channel_not_found")
            return _ok(channel={"id": channel.id}, no_op=True, already_open=True)
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 8:
            return _error("too_many_users")
        if any(user in self.slack.missing_users for user in users):
            return _error("user_not_found")
        if len(users) > 1:  # a group DM: its id only (this fake posts nothing there)
            return _ok(channel={"id": "G" + "".join(sorted(u[1:4] for u in users))[:10]})
        already = users[0] in self.ims
        channel = self.open_im(users[0])
        body: JsonDict = {"channel": {"id": channel.id}}
        if already:
            body.update(no_op=True, already_open=True)
        return _ok(**body)
