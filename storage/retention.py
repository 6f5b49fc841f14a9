"""Purge and export on SQL: deleting, or handing over, everything stored for one workspace.

Like every workspace-level statement, these find a workspace's rows through its key
(platform, team_id), never through an id that came from a request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from bot.workspaces import ExportTable, PurgeReport
from storage.channels import spec_from_row
from storage.db import Database, channels_of, count_rows, nudges_of
from storage.exercises import export_exercises, purge_exercises
from storage.models import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    BreakRow,
    ChannelRow,
    CooldownRow,
    GroupBreakJoinerRow,
    GroupBreakRow,
    NudgeRow,
    PersonRow,
    WorkspaceRow,
)


async def purge_workspace(db: Database, *, platform: str, team_id: str) -> PurgeReport:
    """Delete everything stored for the workspace, in one transaction.

    Nudges, breaks, marks, board claims and conversation references go with their channel
    (ON DELETE CASCADE); people, cooldowns, custom exercises, Slack tokens and the workspace
    row are deleted by key.
    """
    channels = channels_of(platform, team_id)
    async with db.write() as session:
        counts = {
            "channels": await count_rows(session, channels),
            "nudges": await count_rows(session, nudges_of(platform, team_id)),
            "breaks": await count_rows(
                session, select(BreakRow.id).where(BreakRow.channel_pk.in_(channels))
            ),
            "people": await count_rows(
                session,
                select(PersonRow.person_id).where(
                    PersonRow.platform == platform, PersonRow.team_id == team_id
                ),
            ),
        }
        await session.execute(
            delete(ChannelRow).where(ChannelRow.platform == platform, ChannelRow.team_id == team_id)
        )
        await session.execute(
            delete(PersonRow).where(PersonRow.platform == platform, PersonRow.team_id == team_id)
        )
        await session.execute(
            delete(CooldownRow).where(
                CooldownRow.platform == platform, CooldownRow.team_id == team_id
            )
        )
        await purge_exercises(session, platform=platform, team_id=team_id)
        tokens = 0
        if platform == "slack":
            for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
                tokens += len(
                    (
                        await session.execute(
                            delete(table).where(table.c.team_id == team_id).returning(table.c.id)
                        )
                    ).all()
                )
        await session.execute(
            delete(WorkspaceRow).where(
                WorkspaceRow.platform == platform, WorkspaceRow.team_id == team_id
            )
        )
        await session.commit()
    return PurgeReport(platform=platform, team_id=team_id, tokens=tokens, **counts)


async def export_workspace(db: Database, *, platform: str, team_id: str) -> list[ExportTable]:
    """The workspace's channels, nudges, breaks, group breaks and exercises as text tables (times in ISO 8601 UTC)."""
    mine = (ChannelRow.platform == platform) & (ChannelRow.team_id == team_id)
    async with db.read() as session:
        channels = ExportTable(
            "channels",
            (
                "channel_id",
                "schedule",
                "enabled",
                "paused",
                "paused_until",
                "seated_only",
                "weekly_board",
                "language",
                "next_slot_at",
                "disabled_reason",
                "updated_by",
                "personal_for",  # a person's own reminders (their DM with the bot)
                "created_at",
                "updated_at",
            ),
        )
        for row in await session.scalars(select(ChannelRow).where(mine).order_by(ChannelRow.id)):
            spec = spec_from_row(row)
            channels.rows.append(
                tuple(
                    _text(value)
                    for value in (
                        row.channel_id,
                        spec.to_text() if spec else "",
                        row.enabled,
                        row.paused,
                        row.paused_until,
                        row.seated_only,
                        row.weekly_board,
                        row.language or "",
                        row.next_slot_at,
                        row.disabled_reason,
                        row.updated_by,
                        row.personal_for,
                        row.created_at,
                        row.updated_at,
                    )
                )
            )
        nudges = ExportTable(
            "nudges",
            (
                "nudge_id",
                "channel_id",
                "slot_at",
                "exercise",
                "status",
                "message_id",
                "claimed_at",
                "posted_at",
                "error",
            ),
        )
        nudge_rows = await session.execute(
            select(
                NudgeRow.id,
                ChannelRow.channel_id,
                NudgeRow.slot_at,
                NudgeRow.exercise_key,
                NudgeRow.status,
                NudgeRow.message_id,
                NudgeRow.claimed_at,
                NudgeRow.posted_at,
                NudgeRow.error,
            )
            .join(ChannelRow, NudgeRow.channel_pk == ChannelRow.id)
            .where(mine)
            .order_by(NudgeRow.id)
        )
        nudges.rows.extend(tuple(_text(value) for value in row) for row in nudge_rows)
        breaks = ExportTable(
            "breaks", ("break_id", "nudge_id", "channel_id", "person_id", "logged_at")
        )
        break_rows = await session.execute(
            select(
                BreakRow.id,
                BreakRow.nudge_id,
                ChannelRow.channel_id,
                BreakRow.person_id,
                BreakRow.logged_at,
            )
            .join(ChannelRow, BreakRow.channel_pk == ChannelRow.id)
            .where(mine)
            .order_by(BreakRow.id)
        )
        breaks.rows.extend(tuple(_text(value) for value in row) for row in break_rows)
        groups = ExportTable(
            "group_breaks",
            (
                "group_break_id",
                "channel_id",
                "started_by",
                "starts_at",
                "minutes",
                "routine",
                "done_at",
                "done_by",
                "joiners",
            ),
        )
        joiners: dict[int, list[str]] = {}
        for group_id, person in await session.execute(
            select(GroupBreakJoinerRow.group_break_id, GroupBreakJoinerRow.person_id)
            .join(GroupBreakRow, GroupBreakRow.id == GroupBreakJoinerRow.group_break_id)
            .join(ChannelRow, GroupBreakRow.channel_pk == ChannelRow.id)
            .where(mine)
            .order_by(GroupBreakJoinerRow.joined_at)
        ):
            joiners.setdefault(group_id, []).append(person)
        for group in await session.execute(
            select(
                GroupBreakRow.id,
                ChannelRow.channel_id,
                GroupBreakRow.started_by,
                GroupBreakRow.starts_at,
                GroupBreakRow.minutes,
                GroupBreakRow.routine,
                GroupBreakRow.done_at,
                GroupBreakRow.done_by,
            )
            .join(ChannelRow, GroupBreakRow.channel_pk == ChannelRow.id)
            .where(mine)
            .order_by(GroupBreakRow.id)
        ):
            groups.rows.append(
                (*(_text(value) for value in group), " ".join(joiners.get(group[0], [])))
            )
        exercises = await export_exercises(session, platform=platform, team_id=team_id)
    return [channels, nudges, breaks, groups, exercises]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
