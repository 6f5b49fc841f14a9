"""Every replica stops using a revoked workspace's token within 5 s: the token cache of one
replica sees the uninstall another replica stored."""

from __future__ import annotations

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.slack.tokens import FOUND_TTL, BotTokens
from storage.installations import EncryptedInstallationStore, TokenCipher
from tests.oauth.conftest import CLIENT_ID, T1


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_revoked_token_is_dropped_by_other_replicas_within_5_seconds(
    db_engine: AsyncEngine,
) -> None:
    store = EncryptedInstallationStore(
        client_id=CLIENT_ID, engine=db_engine, cipher=TokenCipher.from_setting("")
    )
    await store.async_save(
        Installation(
            app_id="A1",
            team_id=T1,
            user_id="U0001",
            bot_token="xoxb-t1",
            bot_id="B1",
            bot_user_id="UBOT",
            bot_scopes=["chat:write"],
        )
    )
    clock = Monotonic()
    uninstalling = BotTokens(store, None, base_url="http://127.0.0.1:1/api/")
    other = BotTokens(store, None, base_url="http://127.0.0.1:1/api/", clock=clock)
    assert (await other.client_for(T1)) is not None  # cached by the other replica

    await uninstalling.delete(enterprise_id=None, team_id=T1)  # app_uninstalled, elsewhere
    assert FOUND_TTL <= 5.0
    clock.now += FOUND_TTL
    assert await other.client_for(T1) is None
