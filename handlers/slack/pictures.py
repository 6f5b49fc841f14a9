"""Exercise pictures in Slack nudges: an `image` block with alt text, linked from PUBLIC_URL
(or the custom exercise's own https address), or, without PUBLIC_URL (Socket Mode needs no
public address), uploaded to each workspace once and shown by its Slack file id.

Uploads: one per picture drawing and workspace, remembered in the database (every replica
reuses it; when two upload at once, the first stored id wins) and in memory. A failed upload
is not retried for `RETRY_AFTER` seconds, and the nudge goes out without its picture.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.exercises import Exercise
from bot.pictures import ALT_TEXT_LIMIT, Picture, PictureFiles, PictureLinks, alt_text, picture_for
from handlers.slack.uploads import upload_unshared

logger = logging.getLogger("stretchbot.slack")

RETRY_AFTER = 600.0
ClientFor = Callable[[str], Awaitable[AsyncWebClient | None]]


class SlackPictures:
    """The image block of a nudge's exercise in one workspace, or None."""

    def __init__(
        self,
        links: PictureLinks,
        client_for: ClientFor,
        *,
        files: PictureFiles | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.links = links
        self._client_for = client_for
        self.files = files  # None: no uploads (PUBLIC_URL is set, or pictures are off)
        self._monotonic = monotonic
        self._known: dict[tuple[str, str, str], str] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._failed: dict[tuple[str, str], float] = {}

    async def image_block(self, team_id: str, exercise: Exercise) -> dict[str, Any] | None:
        if not self.links.enabled:
            return None
        alt = alt_text(exercise)[:ALT_TEXT_LIMIT]
        url = self.links.url_for(exercise)
        if url is not None:
            return {"type": "image", "image_url": url, "alt_text": alt}
        picture = picture_for(exercise.key)
        if picture is None or self.files is None:
            return None
        file_id = await self._file_id(team_id, picture)
        if file_id is None:
            return None
        return {"type": "image", "slack_file": {"id": file_id}, "alt_text": alt}

    async def forget(self, team_id: str, block: dict[str, Any]) -> None:
        """Slack refused the block (the file was deleted): upload again next time."""
        slack_file = block.get("slack_file")
        file_id = slack_file.get("id") if isinstance(slack_file, dict) else None
        if not isinstance(file_id, str) or self.files is None:
            return
        self._known = {k: v for k, v in self._known.items() if v != file_id}
        try:
            await self.files.forget_picture_file(team_id=team_id, file_id=file_id)
        except Exception:
            logger.exception("pictures.forget_failed team=%s", team_id)

    async def _file_id(self, team_id: str, picture: Picture) -> str | None:
        assert self.files is not None
        version = picture.version()
        key = (team_id, picture.key, version)
        known = self._known.get(key)
        if known is not None:
            return known
        failed_at = self._failed.get((team_id, picture.key))
        if failed_at is not None and self._monotonic() - failed_at < RETRY_AFTER:
            return None
        lock = self._locks.setdefault((team_id, picture.key), asyncio.Lock())
        async with lock:  # many channels of one workspace due at once: one upload
            known = self._known.get(key)
            if known is not None:
                return known
            try:
                stored = await self.files.picture_file(
                    team_id=team_id, picture=picture.key, version=version
                )
                if stored is None:
                    stored = await self._upload(team_id, picture, version)
            except Exception:
                logger.exception("pictures.lookup_failed team=%s picture=%s", team_id, picture.key)
                stored = None
            if stored is None:
                self._failed[(team_id, picture.key)] = self._monotonic()
                return None
            self._failed.pop((team_id, picture.key), None)
            self._known[key] = stored
            return stored

    async def _upload(self, team_id: str, picture: Picture, version: str) -> str | None:
        assert self.files is not None
        client = await self._client_for(team_id)
        if client is None:
            return None
        result = await upload_unshared(
            client,
            data=picture.png_bytes(),
            filename=f"{picture.key}.png",
            title=picture.key.replace("-", " ").capitalize(),
            alt_txt=picture.alt_text,
        )
        if not result.ok or not result.message_id:
            logger.warning(
                "pictures.upload_failed team=%s picture=%s: %s",
                team_id,
                picture.key,
                result.detail,
            )
            return None
        logger.info(
            "pictures.uploaded team=%s picture=%s file=%s", team_id, picture.key, result.message_id
        )
        return await self.files.remember_picture_file(
            team_id=team_id, picture=picture.key, version=version, file_id=result.message_id
        )
