"""The fake Slack's presence reads: `dnd.info` and `users.profile.get`, as Slack documents them.

- https://docs.slack.dev/reference/methods/dnd.info (`user`, Tier 3): `dnd_enabled`,
  `next_dnd_start_ts`, `next_dnd_end_ts` (epoch seconds) for any user; `snooze_enabled`,
  `snooze_endtime`, `snooze_remaining` while a snooze runs; `user_not_found`;
- https://docs.slack.dev/reference/methods/users.profile.get (`user`, Tier 4): `profile` with
  `status_text`, `status_emoji`, `status_expiration` (0: never), `huddle_state`
  (`default_unset` or `in_a_huddle`) and `huddle_state_expiration_ts`; `user_not_found`.

Set a person's state with `set_dnd`, `set_snooze`, `set_status` and `set_huddle`; faults
(`FakeSlack.fail_with_error`, `rate_limit`) work as for every other method. Times are epoch
seconds the test chooses, so an injected clock decides whether someone is in Do Not Disturb.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack, _Reply

JsonDict = dict[str, Any]


@dataclass
class FakePresence:
    """One person's Do Not Disturb, snooze, status and huddle."""

    dnd_enabled: bool = True  # Slack's default: a schedule exists (its window may be far off)
    next_dnd_start_ts: int = 0
    next_dnd_end_ts: int = 0
    snooze_endtime: int | None = None
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0
    huddle: bool = False


class PresenceApi:
    """State and methods of the presence reads of one fake workspace."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.people: dict[str, FakePresence] = {}

    def handlers(self) -> dict[str, Callable[[JsonDict, str | None], _Reply]]:
        return {"dnd.info": self._dnd_info, "users.profile.get": self._users_profile_get}

    def of(self, user: str) -> FakePresence:
        return self.people.setdefault(user, FakePresence())

    def set_dnd(self, user: str, start_ts: float, end_ts: float) -> None:
        """The person's scheduled Do Not Disturb runs from `start_ts` to `end_ts`."""
        person = self.of(user)
        person.dnd_enabled = True
        person.next_dnd_start_ts, person.next_dnd_end_ts = int(start_ts), int(end_ts)

    def set_snooze(self, user: str, end_ts: float | None) -> None:
        self.of(user).snooze_endtime = int(end_ts) if end_ts is not None else None

    def set_status(self, user: str, text: str = "", emoji: str = "", expiration: int = 0) -> None:
        person = self.of(user)
        person.status_text, person.status_emoji, person.status_expiration = text, emoji, expiration

    def set_huddle(self, user: str, in_huddle: bool) -> None:
        self.of(user).huddle = in_huddle

    def _user(self, params: JsonDict) -> tuple[str | None, _Reply | None]:
        from tests.fakes.slack_api import _error

        user = str(params.get("user") or "")
        if not user or user in self.slack.missing_users:
            return None, _error("user_not_found")
        return user, None

    def _dnd_info(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import _ok

        user, problem = self._user(params)
        if problem is not None or user is None:
            assert problem is not None
            return problem
        person = self.of(user)
        body: JsonDict = {
            "dnd_enabled": person.dnd_enabled,
            "next_dnd_start_ts": person.next_dnd_start_ts or 1,
            "next_dnd_end_ts": person.next_dnd_end_ts or 1,
        }
        if person.snooze_endtime is not None:
            body.update(
                snooze_enabled=True,
                snooze_endtime=person.snooze_endtime,
                snooze_remaining=max(0, person.snooze_endtime - int(time.time())),
            )
        else:
            body["snooze_enabled"] = False
        return _ok(**body)

    def _users_profile_get(self, params: JsonDict, token: str | None) -> _Reply:
        from tests.fakes.slack_api import FakeUser, _ok

        user, problem = self._user(params)
        if problem is not None or user is None:
            assert problem is not None
            return problem
        known = self.slack.users.get(user) or FakeUser(user, user.lower())
        person = self.of(user)
        real_name = known.real_name or known.name.title()
        profile: JsonDict = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": known.name,
            "display_name_normalized": known.name,
            "status_text": person.status_text,
            "status_emoji": person.status_emoji,
            "status_emoji_display_info": [],
            "status_expiration": person.status_expiration,
            "avatar_hash": "ge3b51ca72de",
            "huddle_state": "in_a_huddle" if person.huddle else "default_unset",
            "huddle_state_expiration_ts": 0,
            "team": self.slack.team_id,
        }
        return _ok(profile=profile)
