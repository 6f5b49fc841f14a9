"""Signed payloads whose fields have the wrong type: a 4xx, never a 500 (found by the hostile
HTTP tests; kept here as fast regression tests)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.scenario.conftest import BotDriver

SHAPES = [
    ("form", {"type": "block_actions", "authorizations": False}),
    ("form", {"type": "block_actions", "authorizations": [1]}),
    ("json", {"type": "event_callback", "event": ["reaction_added"]}),
    ("json", {"type": "event_callback", "event": {"type": ["x"]}, "team_id": "T0001"}),
    ("json", {"type": "event_callback", "authorizations": "T0001", "event": {}}),
    ("form", {"type": "block_actions", "team": 5, "user": "U1", "actions": {"a": 1}}),
    ("json", {"type": "event_callback", "enterprise": 7, "event": {"type": "app_uninstalled"}}),
]


@pytest.mark.parametrize(("kind", "payload"), SHAPES)
async def test_wrongly_typed_fields_get_a_4xx(
    bot: BotDriver, kind: str, payload: dict[str, object]
) -> None:
    if kind == "json":
        reply = await bot.post(json.dumps(payload), content_type="application/json")
    else:
        reply = await bot.post("payload=" + quote(json.dumps(payload)))
    assert reply.status < 500, (payload, reply.status, reply.text)
    async with bot.http.get(bot.url.replace("/slack/events", "/healthz")) as health:
        assert health.status == 200
