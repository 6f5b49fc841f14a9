"""Teams rendering and activity translation (pure functions, no I/O)."""

from __future__ import annotations

import json
from datetime import date

from microsoft_agents.activity import Activity

from bot.exercises import CATALOG
from bot.leaderboard import BoardEntry
from bot.ports import Board, ChannelKey
from handlers.teams import activities, cards
from tests.teams import payloads
from tests.teams.payloads import ADA, DESIGN, GENERAL, TENANT

SERVICE = "https://smba.trafficmanager.net/emea/"


def activity(raw: dict[str, object]) -> Activity:
    return Activity.model_validate(raw)


# ---- activities -> core terms --------------------------------------------------------------


def test_a_channel_message_in_a_thread_is_the_channel() -> None:
    raw = payloads.message("status", service_url=SERVICE, channel=DESIGN, thread="1763")
    key = activities.channel_key(activity(raw))
    assert key == ChannelKey("teams", f"{TENANT}:{GENERAL}", DESIGN)


def test_group_and_personal_chats_are_their_own_workspace() -> None:
    raw = payloads.personal_message("stats", service_url=SERVICE)
    conversation = raw["conversation"]["id"]
    assert activities.channel_key(activity(raw)) == ChannelKey(
        "teams", f"{TENANT}:{conversation}", conversation
    )


def test_a_person_is_their_entra_object_id() -> None:
    raw = payloads.message("status", service_url=SERVICE)
    assert activities.person_id(activity(raw).from_property) == ADA.aad


def test_timezone_from_local_timezone_or_client_info() -> None:
    raw = payloads.message("status", service_url=SERVICE, person=payloads.GRACE)
    assert activities.client_timezone(activity(raw)) == "America/New_York"
    del raw["localTimezone"]
    assert activities.client_timezone(activity(raw)) == "America/New_York"  # clientInfo
    raw["entities"] = []
    assert activities.client_timezone(activity(raw)) is None


def test_install_channel_is_the_selected_one_else_the_conversation() -> None:
    raw = payloads.installed(service_url=SERVICE, selected_channel=DESIGN)
    assert activities.install_channel_id(activity(raw)) == DESIGN
    raw = payloads.installed(service_url=SERVICE)
    assert activities.install_channel_id(activity(raw)) == GENERAL


def test_command_text_drops_the_mention_markup_and_the_stretch_word() -> None:
    def text(value: str) -> str:
        return activities.command_text(Activity(type="message", text=value))

    assert text("<at>stretchbot</at> stretch every 45m 09:00-17:00\n") == "every 45m 09:00-17:00"
    assert text("stretch") == ""  # `stretch` alone: a break now
    assert text("/stretch now") == "now"
    assert text("<p>stretch&nbsp;status</p>") == "status"
    assert text("stretches") == "stretches"  # only the word itself


# ---- replies -------------------------------------------------------------------------------


def test_replies_mention_people_by_name_and_use_teams_commands() -> None:
    text, mentions = cards.teams_markdown(
        "<@aad-1> paused movement breaks here until `/stretch resume`.\n"
        "`/stretch` or `/stretch now`. <@aad-2> too.",
        {"aad-1": "Ada Lovelace"},
    )
    assert text == (
        "<at>Ada Lovelace</at> paused movement breaks here until `@stretchbot resume`.\n\n"
        "`@stretchbot stretch` or `@stretchbot now`. someone too."
    )
    [mention] = mentions
    assert mention.mentioned.id == "aad-1" and mention.text == "<at>Ada Lovelace</at>"


def test_replies_cannot_inject_markup() -> None:
    text, mentions = cards.teams_markdown(
        "I didn't understand `<img src=x>`. <@p>", {"p": "Eve</at><at>Mallory [x](http://e)"}
    )
    assert "<img" not in text
    assert "<at>Eve/atatMallory x(http://e)</at>" in text
    assert mentions[0].text in text


def test_reply_activity_carries_its_mentions() -> None:
    reply = cards.reply_activity("<@p> scheduled it.", {"p": "Ada"})
    dumped = reply.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["textFormat"] == "markdown"
    assert dumped["entities"] == [
        {"type": "mention", "text": "<at>Ada</at>", "mentioned": {"id": "p", "name": "Ada"}}
    ]
    assert "entities" not in cards.reply_activity("no one", {}).model_dump(exclude_none=True)


# ---- cards ---------------------------------------------------------------------------------


def test_the_nudge_card() -> None:
    exercise = CATALOG[0]
    card = cards.nudge_card(exercise)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    texts = [block["text"] for block in card["body"]]
    assert texts[0] == f"Movement break: {exercise.name}"
    assert exercise.how_to in texts and exercise.dose in texts
    assert card["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Done ✅",
            "verb": "done",
            "style": "positive",
            "data": {"exercise": exercise.key},
        }
    ]
    assert not any("Moved so far" in t for t in texts)
    json.dumps(card)  # serialisable as is


def test_the_card_names_who_moved() -> None:
    card = cards.nudge_card(CATALOG[0], ["Ada", "Grace"], unnamed_movers=1)
    assert card["body"][-1]["text"] == "Moved so far (3): Ada, Grace and 1 other."
    many = [f"P{i}" for i in range(12)]
    assert cards.movers_line(many).endswith("P9 and 2 others.")
    assert cards.movers_line([], 2) == "Moved so far (2): 2."
    assert cards.movers_line([]) == ""


def test_the_board_card_mentions_known_people() -> None:
    board = Board(
        title="This week",
        entries=[
            BoardEntry(rank=1, person_id="a", breaks=5, streak=3),
            BoardEntry(rank=1, person_id="b", breaks=5, streak=0),
            BoardEntry(rank=3, person_id="c", breaks=1, streak=1),
        ],
        period_start=date(2026, 11, 23),
    )
    card = cards.board_card(board, {"a": "Ada", "c": "Cy *bold*"})
    lines = [block["text"] for block in card["body"]]
    assert lines[0] == "🏅 Movement leaderboard: this week"
    assert lines[1:4] == [
        "1. <at>Ada</at> 5 breaks, 3-day streak",
        "1. Someone 5 breaks",
        "3. <at>Cy bold</at> 1 break, 1-day streak",
    ]
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == ["a", "c"]


def test_a_long_board_is_cut() -> None:
    entries = [BoardEntry(rank=i + 1, person_id=f"p{i}", breaks=1, streak=0) for i in range(35)]
    card = cards.board_card(Board(title="This month", entries=entries), {})
    texts = [block["text"] for block in card["body"]]
    assert "…and 5 more people who moved." in texts
    assert len(texts) == 1 + 30 + 1 + 1


def test_only_text_or_a_mention_is_a_command() -> None:
    raw = payloads.message("", service_url=SERVICE)
    raw["text"] = ""  # the SDK already removed the bot's mention: `@stretchbot` alone
    assert activities.is_for_the_bot(activity(raw))
    raw = payloads.personal_message("", service_url=SERVICE)
    raw["attachments"] = [{"contentType": "image/png", "contentUrl": "https://x/y.png"}]
    assert not activities.is_for_the_bot(activity(raw))  # a picture in the personal chat
    assert activities.is_for_the_bot(
        activity(payloads.personal_message("stats", service_url=SERVICE))
    )
