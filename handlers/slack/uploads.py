"""File uploads on Slack's current upload API: `files.getUploadURLExternal` for an upload URL,
the bytes POSTed there, then `files.completeUploadExternal` to share the file in a channel
(the deprecated `files.upload` is never used). The weekly chart goes out this way."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import PostError, PostResult
from handlers.slack.chat import classify

logger = logging.getLogger("stretchbot.slack")

UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60)
ALT_TEXT_LIMIT = 1000  # Slack: alt_txt_too_large past this


async def upload_file(
    client: AsyncWebClient,
    *,
    channel_id: str,
    data: bytes,
    filename: str,
    title: str,
    alt_txt: str,
    initial_comment: str | None = None,
) -> PostResult:
    """Upload `data` and share it in `channel_id`; the file id on success, else why not."""
    complete: dict[str, Any] = {"channel_id": channel_id}
    if initial_comment:
        complete["initial_comment"] = initial_comment
    return await _upload(client, data, filename, title, alt_txt, complete)


async def upload_unshared(
    client: AsyncWebClient, *, data: bytes, filename: str, title: str, alt_txt: str
) -> PostResult:
    """Upload `data` as the bot's own file, shared in no channel (an image block shows it by
    its id); the file id on success, else why not."""
    return await _upload(client, data, filename, title, alt_txt, {})


async def _upload(
    client: AsyncWebClient,
    data: bytes,
    filename: str,
    title: str,
    alt_txt: str,
    complete: dict[str, Any],
) -> PostResult:
    """Slack's external upload: ask for an upload URL, send the bytes, then complete it with
    `complete` (where to share it, if anywhere)."""
    try:
        ticket = await client.files_getUploadURLExternal(
            filename=filename, length=len(data), alt_txt=alt_txt[:ALT_TEXT_LIMIT]
        )
        upload_url = ticket.get("upload_url")
        file_id = ticket.get("file_id")
        if not isinstance(upload_url, str) or not isinstance(file_id, str):
            return PostResult(error=PostError.OTHER, detail="no_upload_url")
        status = await _send_bytes(client, upload_url, data, filename)
        if status != 200:
            return PostResult(error=PostError.OTHER, detail=f"upload_http_{status}")
        await client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}], **complete
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown"))
        return PostResult(error=classify(error), detail=error)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return PostResult(error=PostError.OTHER, detail=f"connection: {type(exc).__name__}")
    return PostResult(message_id=file_id)


async def _send_bytes(client: AsyncWebClient, url: str, data: bytes, filename: str) -> int:
    """POST the file's bytes to its upload URL (multipart, as Slack's docs show); the status."""
    form = aiohttp.FormData()
    form.add_field("filename", data, filename=filename, content_type="image/png")
    session = client.session
    if session is not None and not session.closed:
        async with session.post(url, data=form, timeout=UPLOAD_TIMEOUT) as response:
            await response.read()
            return response.status
    async with (
        aiohttp.ClientSession() as own,
        own.post(url, data=form, timeout=UPLOAD_TIMEOUT) as response,
    ):
        await response.read()
        return response.status
