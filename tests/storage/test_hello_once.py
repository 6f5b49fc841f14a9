"""The hello is said once per channel and once per installed workspace on every backend: the
claim is one atomic upsert (two replicas racing get one True), a failed post releases it, and a
workspace purge deletes it with the rest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.onboarding import REMEMBER_FOR, OnboardingService
from bot.ports import ChannelKey
from storage.sql import SqlStorage, SqlTenancy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANNEL = ChannelKey("slack", "T0001", "C0001")


def service(engine: AsyncEngine) -> OnboardingService:
    return OnboardingService(SqlStorage(engine), SqlTenancy(engine), clock=lambda: NOW)


async def test_a_channel_is_claimed_once_even_by_racing_replicas(db_engine: AsyncEngine) -> None:
    replicas = [service(db_engine), service(db_engine), service(db_engine)]
    claims = await asyncio.gather(*(r.claim_channel(CHANNEL) for r in replicas * 2))
    assert sorted(claims) == [False] * 5 + [True]
    assert not await replicas[0].claim_channel(CHANNEL)
    # Other channels and the workspace's installer hello are claims of their own.
    assert await replicas[0].claim_channel(ChannelKey("slack", "T0001", "C0002"))
    assert await replicas[0].claim_workspace(platform="slack", team_id="T0001")
    assert not await replicas[1].claim_workspace(platform="slack", team_id="T0001")


async def test_a_release_lets_the_next_join_try_again(db_engine: AsyncEngine) -> None:
    onboarding = service(db_engine)
    assert await onboarding.claim_channel(CHANNEL)
    await onboarding.release_channel(CHANNEL)
    assert await onboarding.claim_channel(CHANNEL)
    assert await onboarding.claim_workspace(platform="slack", team_id="T0001")
    await onboarding.release_workspace(platform="slack", team_id="T0001")
    assert await onboarding.claim_workspace(platform="slack", team_id="T0001")


async def test_a_purge_forgets_the_hellos(db_engine: AsyncEngine) -> None:
    assert await service(db_engine).claim_channel(CHANNEL)
    await SqlTenancy(db_engine).workspaces.purge(platform="slack", team_id="T0001")
    assert await service(db_engine).claim_channel(CHANNEL)


async def test_a_process_answers_a_repeat_without_the_database_for_a_while(
    db_engine: AsyncEngine,
) -> None:
    now = [NOW]
    onboarding = OnboardingService(
        SqlStorage(db_engine), SqlTenancy(db_engine), clock=lambda: now[0]
    )
    assert await onboarding.claim_channel(CHANNEL)
    await SqlTenancy(db_engine).workspaces.purge(platform="slack", team_id="T0001")
    assert not await onboarding.claim_channel(CHANNEL)  # remembered: no query
    now[0] += REMEMBER_FOR
    assert await onboarding.claim_channel(CHANNEL)  # asked again: the purge forgot it
