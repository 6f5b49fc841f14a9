"""After an OAuth install the installer finds a hello in their DM with the app ("Set a
schedule", "Take a break now"), once per workspace: a reinstall says nothing new, and a DM
that cannot be sent never fails the install."""

from __future__ import annotations

from typing import Any

from handlers.slack.views.pick_channel import PICK_SCHEDULE_ACTION
from tests.fakes.block_kit import message_problems
from tests.oauth.conftest import T1, OAuthBot, settle


def dm_hellos(bot: OAuthBot, team: str, user: str = "U0001") -> list[dict[str, Any]]:
    workspace = bot.grid.workspaces[team]
    dm = workspace.surfaces.open_im(user).id
    return [m for m in workspace.messages_in(dm) if "Thanks for installing" in m["text"]]


async def test_the_installer_gets_one_hello_in_their_dm(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    await bot.install(T1)

    async def greeted() -> list[dict[str, Any]]:
        return dm_hellos(bot, T1)

    [hello] = await settle(greeted, "the installer's hello")
    assert not message_problems(hello)
    [actions] = [b for b in hello["blocks"] if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Set a schedule", "Take a break now"]
    assert actions["elements"][0]["action_id"] == PICK_SCHEDULE_ACTION
    assert actions["elements"][1]["value"] == "now"
    [post] = bot.grid.calls_in(T1, "chat.postMessage")
    assert post.params["channel"] == "U0001" and post.token == bot.grid.token_of(T1)

    await bot.install(T1)  # a reinstall (new scopes, say): no second hello
    assert len(dm_hellos(bot, T1)) == 1


async def test_a_hello_slack_refuses_leaves_the_install_working(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    bot.grid.workspaces[T1].fail_with_error("chat.postMessage", "channel_not_found")
    page = await bot.install(T1)
    assert "Time to move" in page.text
    assert not dm_hellos(bot, T1)
    await bot.install(T1)  # not said yet: the next install tries again

    async def greeted() -> list[dict[str, Any]]:
        return dm_hellos(bot, T1)

    await settle(greeted, "the installer's hello")
