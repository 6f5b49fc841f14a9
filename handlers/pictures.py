"""`GET /pictures/<key>-<version>.png`: the built-in exercise pictures, for Slack and Teams to
fetch when nudges link them through PUBLIC_URL. Public on purpose (they are the same for
everyone); each name holds one drawing, so it is cached for a year."""

from __future__ import annotations

from aiohttp import web

from bot.pictures import PICTURES_PATH, picture_by_served_name

CACHE_FOR_A_YEAR = "public, max-age=31536000, immutable"


async def picture(request: web.Request) -> web.Response:
    found = picture_by_served_name(request.match_info.get("name", ""))
    if found is None:
        return web.Response(status=404, text="no such picture\n")
    etag = '"' + found.version() + '"'
    headers = {
        "Cache-Control": CACHE_FOR_A_YEAR,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.png_bytes(), content_type=found.media_type, headers=headers)


def mount(web_app: web.Application) -> None:
    """Serve the pictures (GET and HEAD) on the bot's web server."""
    web_app.router.add_get(PICTURES_PATH + "{name}", picture)
