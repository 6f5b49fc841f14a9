"""Views of the team mechanics, pure: the weekly chart PNG, the board's team lines and the group
break card in Block Kit (within Slack's documented limits, for a channel with hundreds of
people) and as Adaptive Cards for Teams."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PIL import Image, ImageStat

from bot.charts import HEIGHT_PX, WIDTH_PX, ChartDay, WeekChart, alt_text, render_png
from bot.leaderboard import rank_entries
from bot.ports import Board, ChannelKey
from bot.team_ports import GroupBreak
from bot.teamgoal import GoalDay, SlotSuggestion, TeamExtras
from bot.together import build_routine
from handlers.slack.blocks import board_message
from handlers.slack.together_card import DONE_ACTION_ID, JOIN_ACTION_ID, together_message
from handlers.teams import team_cards

MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def week(breaks: list[int], goal: set[int]) -> WeekChart:
    days = tuple(
        ChartDay(MONDAY + timedelta(days=n), breaks[n], goal_met=n in goal, scheduled=n < 5)
        for n in range(7)
    )
    return WeekChart(week_of=MONDAY, days=days, goal_percent=50, team_streak=2)


# ---- the chart --------------------------------------------------------------------------------


def test_the_chart_renders_at_its_size_and_is_not_blank() -> None:
    png = render_png(week([12, 7, 15, 3, 9, 0, 0], {0, 2}))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    # Not blank: many colours, and a real spread of brightness.
    colors = {color: count for count, color in image.getcolors(maxcolors=1 << 16) or []}
    assert len(colors) > 20
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 10
    # The goal-day green is drawn (the bars of the goal days), and the other days' grey.
    assert colors.get((0x2E, 0x7D, 0x32), 0) > 1000
    assert colors.get((0x78, 0x90, 0x9C), 0) > 1000
    assert len(png) < 200_000  # a small upload


def test_two_different_weeks_give_different_images() -> None:
    first = render_png(week([12, 7, 15, 3, 9, 0, 0], {0, 2}))
    second = render_png(week([2, 9, 4, 8, 1, 0, 0], {1}))
    assert first != second
    assert render_png(week([12, 7, 15, 3, 9, 0, 0], {0, 2})) == first  # deterministic


def test_the_alt_text_states_every_number() -> None:
    text = alt_text(week([12, 7, 15, 3, 9, 0, 0], {0, 2}))
    assert "Mon 23: 12 (goal met)" in text and "Tue 24: 7," in text
    assert "Total 46." in text and "on 2 days" in text
    assert len(text) <= 1000


# ---- the board's team lines (Block Kit) ----------------------------------------------------------


def crowded_board(people: int) -> Board:
    ids = [f"U{n:08d}" for n in range(people)]
    counts = {person: 1 + n % 9 for n, person in enumerate(ids)}
    extras = TeamExtras(
        goal_percent=50,
        team_streak=4,
        week=tuple(GoalDay(MONDAY + timedelta(days=n), 10, 20, 10, True) for n in range(5)),
        most_improved=tuple(ids[:40]),
        improved_by=3,
        regulars=tuple(ids),
        regular_days=3,
        suggestions=(SlotSuggestion("15:45", 0.1, 0.6),),
    )
    return Board(title="This week", entries=rank_entries(counts, {}), team=extras)


def check_block_kit(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    action_ids = []
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000, len(text)
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
                action_ids.append(element["action_id"])
            else:
                assert len(element.get("text", "")) <= 3000
    assert len(action_ids) == len(set(action_ids))


def test_a_board_for_hundreds_of_people_stays_within_block_kit_limits() -> None:
    for people in (3, 300, 1000):
        _text, blocks = board_message(crowded_board(people))
        check_block_kit(blocks)
        whole = json.dumps(blocks)
        assert "Team goal (50%) met on 5 of 5 scheduled days" in whole
        assert "Most improved" in whole and "Moved on 3+ days this week" in whole
        assert "15:45" in whole
    _text, blocks = board_message(crowded_board(300))
    # The regulars are named (up to 100, the rest counted) even far outside the top three.
    assert "<@U00000099>" in json.dumps(blocks) and "and 200 more" in json.dumps(blocks)


# ---- the group break card ----------------------------------------------------------------------


def group(joiners: int, *, done: bool = False) -> GroupBreak:
    return GroupBreak(
        id=7,
        channel=ChannelKey("slack", "T1", "C1"),
        started_by="U00000001",
        routine=build_routine(3, rng=random.Random(1)),
        starts_at=NOW + timedelta(minutes=1),
        tz="Europe/Berlin",
        message_id="1700000000.000100",
        joiners=tuple(f"U{n:08d}" for n in range(joiners)),
        done_at=NOW if done else None,
        done_by="U00000001" if done else None,
    )


def test_the_slack_card_has_the_routine_start_roll_call_and_buttons() -> None:
    text, blocks = together_message(group(2), now=NOW)
    check_block_kit(blocks)
    whole = json.dumps(blocks, ensure_ascii=False)
    for move in group(2).routine.moves:
        assert move.name in whole and move.dose in whole
    assert "<!date^" in whole  # the start in each reader's own timezone
    assert "*In (2):* <@U00000000>, <@U00000001>" in whole
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [JOIN_ACTION_ID, DONE_ACTION_ID]
    assert "Group break" in text


def test_a_done_card_has_no_buttons_and_a_huge_roll_call_fits() -> None:
    _text, blocks = together_message(group(2000, done=True), now=NOW)
    check_block_kit(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "2000 people moved together" in json.dumps(blocks)


def test_the_teams_card_uses_action_execute_verbs_and_names() -> None:
    names = {"U00000000": "Ada", "U00000001": "Grace <b>"}
    card = team_cards.together_card(group(2), names, now=NOW)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    verbs = [action["verb"] for action in card["actions"]]
    assert verbs == [team_cards.JOIN_VERB, team_cards.FINISH_VERB]
    assert all(action["type"] == "Action.Execute" for action in card["actions"])
    texts = [block["text"] for block in card["body"]]
    assert "In (2): Ada, Grace b" in texts
    done = team_cards.together_card(group(2, done=True), names, now=NOW)
    assert "actions" not in done


def test_the_teams_chart_card_is_a_vertical_bar_chart_with_a_text_fallback() -> None:
    chart = week([12, 7, 15, 3, 9, 0, 0], {0, 2})
    card = team_cards.chart_card(chart)
    element = card["body"][0]
    assert element["type"] == "Chart.VerticalBar"
    assert [(p["x"], p["y"], p["color"]) for p in element["data"]][:3] == [
        ("Mon 23", 12, "good"),
        ("Tue 24", 7, "neutral"),
        ("Wed 25", 15, "good"),
    ]
    assert element["fallback"]["type"] == "TextBlock"
    assert element["fallback"]["text"] == alt_text(chart)
