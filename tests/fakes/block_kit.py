"""Block Kit's documented limits, checked the way Slack checks them: one message per problem, in
Slack's own form (`[ERROR] must be less than 101 items [json-pointer:/view/blocks]`).

The fake Slack refuses views that break them (`invalid_arguments` with
`response_metadata.messages`), and the view tests assert there are none. Limits from
https://docs.slack.dev/reference/block-kit/blocks, .../block-elements, .../composition-objects
and https://docs.slack.dev/reference/views:

- a view: at most 100 blocks; a modal's title, submit and close at most 24 characters;
  private_metadata 3000; callback_id and external_id 255;
- a message: at most 50 blocks;
- any block: block_id at most 255, unique; action_id at most 255, unique in the view or message;
- section: text 1..3000, at most 10 fields of 2000; header: 150; context: 10 elements;
  actions: 25 elements; input: label and hint 2000;
- button: text 75, value 2000, url 3000; option: text 75, value 150, description 75;
  select: at most 100 options (or 100 groups), placeholder 150, its initial option among them;
  image: alt_text 1..2000, image_url 3000 or a slack_file; plain_text_input: max_length 3000;
  checkboxes and radio buttons: at most 10 options; timepicker: `HH:mm`; a conversations
  select's filter includes only `im`, `mpim`, `private`, `public`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

JsonDict = dict[str, Any]

VIEW_BLOCKS = 100
MESSAGE_BLOCKS = 50
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_BLOCK_TYPES = {"section", "header", "context", "actions", "input", "divider", "image"}


def _error(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _length(value: Any, limit: int, pointer: str, *, required: bool = False) -> Iterator[str]:
    if value is None:
        if required:
            yield _error("missing required field", pointer)
        return
    if not isinstance(value, str):
        yield _error("must be a string", pointer)
    elif len(value) > limit:
        yield _error(f"must be less than {limit + 1} characters", pointer)
    elif required and not value:
        yield _error("must be more than 0 characters", pointer)


def _text(obj: Any, limit: int, pointer: str, *, plain: bool = False) -> Iterator[str]:
    if not isinstance(obj, dict):
        yield _error("must be a text object", pointer)
        return
    kind = obj.get("type")
    if kind not in ("plain_text", "mrkdwn") or (plain and kind != "plain_text"):
        yield _error("must be plain_text" if plain else "invalid text type", f"{pointer}/type")
    yield from _length(obj.get("text"), limit, f"{pointer}/text", required=True)


def _option(option: Any, pointer: str) -> Iterator[str]:
    if not isinstance(option, dict):
        yield _error("must be an option object", pointer)
        return
    yield from _text(option.get("text"), 75, f"{pointer}/text")
    yield from _length(option.get("value"), 150, f"{pointer}/value", required=True)
    if option.get("description") is not None:
        yield from _text(option["description"], 75, f"{pointer}/description")


class _Ids:
    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.blocks: set[str] = set()


def _element(element: Any, pointer: str, ids: _Ids) -> Iterator[str]:
    if not isinstance(element, dict):
        yield _error("must be an element object", pointer)
        return
    kind = element.get("type")
    action_id = element.get("action_id")
    if action_id is not None:
        yield from _length(action_id, 255, f"{pointer}/action_id")
        if action_id in ids.actions:
            yield _error(f"duplicate action_id {action_id!r}", f"{pointer}/action_id")
        ids.actions.add(action_id)
    if element.get("placeholder") is not None:
        yield from _text(element["placeholder"], 150, f"{pointer}/placeholder", plain=True)
    if kind == "button":
        yield from _text(element.get("text"), 75, f"{pointer}/text", plain=True)
        yield from _length(element.get("value"), 2000, f"{pointer}/value")
        yield from _length(element.get("url"), 3000, f"{pointer}/url")
        if element.get("style") not in (None, "primary", "danger"):
            yield _error("must be primary or danger", f"{pointer}/style")
    elif kind in ("static_select", "external_select", "checkboxes", "radio_buttons", "overflow"):
        options = element.get("options")
        groups = element.get("option_groups")
        most = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}.get(kind, 100)
        if kind == "static_select" and options is None and groups is None:
            yield _error("missing required field: options or option_groups", pointer)
        offered: list[Any] = []
        if options is not None:
            if not isinstance(options, list) or not options:
                yield _error("must be a non-empty array", f"{pointer}/options")
            elif len(options) > most:
                yield _error(f"must be less than {most + 1} items", f"{pointer}/options")
            else:
                for index, option in enumerate(options):
                    yield from _option(option, f"{pointer}/options/{index}")
                offered = options
        if groups is not None:
            if not isinstance(groups, list) or not 0 < len(groups) <= 100:
                yield _error("must be 1 to 100 groups", f"{pointer}/option_groups")
            else:
                for index, group in enumerate(groups):
                    group_options = group.get("options") if isinstance(group, dict) else None
                    if not isinstance(group_options, list) or not 0 < len(group_options) <= 100:
                        yield _error("must be 1 to 100 items", f"{pointer}/option_groups/{index}")
                        continue
                    offered += group_options
        values = {o.get("value") for o in offered if isinstance(o, dict)}
        initial = element.get("initial_option")
        if initial is not None:
            yield from _option(initial, f"{pointer}/initial_option")
            if kind == "static_select" and initial.get("value") not in values:
                yield _error("must match one of the options", f"{pointer}/initial_option")
        chosen = element.get("initial_options")
        if chosen is not None:
            if not isinstance(chosen, list) or not chosen:
                yield _error("must be a non-empty array", f"{pointer}/initial_options")
            else:
                for index, option in enumerate(chosen):
                    yield from _option(option, f"{pointer}/initial_options/{index}")
                    if kind != "external_select" and option.get("value") not in values:
                        yield _error(
                            "must match one of the options", f"{pointer}/initial_options/{index}"
                        )
    elif kind == "timepicker":
        initial_time = element.get("initial_time")
        if initial_time is not None and not (
            isinstance(initial_time, str) and _TIME.fullmatch(initial_time)
        ):
            yield _error("must be a time in HH:mm format", f"{pointer}/initial_time")
    elif kind == "conversations_select":
        # https://docs.slack.dev/reference/block-kit/composition-objects/conversation-filter-object
        conversation_filter = element.get("filter")
        if conversation_filter is not None:
            include = conversation_filter.get("include", ["im", "mpim", "private", "public"])
            if not isinstance(include, list) or not include:
                yield _error("must be a non-empty array", f"{pointer}/filter/include")
            elif not set(include) <= {"im", "mpim", "private", "public"}:
                yield _error("must be im, mpim, private or public", f"{pointer}/filter/include")
            for flag in ("exclude_external_shared_channels", "exclude_bot_users"):
                if not isinstance(conversation_filter.get(flag, False), bool):
                    yield _error("must be a boolean", f"{pointer}/filter/{flag}")
        initial = element.get("initial_conversation")
        if initial is not None and not (isinstance(initial, str) and initial[:1] in "CGD"):
            yield _error("must be a conversation id", f"{pointer}/initial_conversation")
    elif kind in ("mrkdwn", "plain_text"):
        yield from _length(element.get("text"), 3000, f"{pointer}/text", required=True)
    elif kind == "plain_text_input":
        limit = element.get("max_length")
        if limit is not None and not (isinstance(limit, int) and 1 <= limit <= 3000):
            yield _error("must be between 1 and 3000", f"{pointer}/max_length")
        yield from _length(element.get("initial_value"), 3000, f"{pointer}/initial_value")
    elif kind not in ("image", "datepicker", "conversations_select"):
        yield _error(f"unsupported element type {kind!r}", f"{pointer}/type")


def _block(block: Any, pointer: str, ids: _Ids, *, in_view: bool) -> Iterator[str]:
    if not isinstance(block, dict):
        yield _error("must be a block object", pointer)
        return
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        yield _error(f"unsupported block type {kind!r}", f"{pointer}/type")
        return
    block_id = block.get("block_id")
    if block_id is not None:
        yield from _length(block_id, 255, f"{pointer}/block_id")
        if block_id in ids.blocks:
            yield _error(f"duplicate block_id {block_id!r}", f"{pointer}/block_id")
        ids.blocks.add(block_id)
    if kind == "section":
        if block.get("text") is None and not block.get("fields"):
            yield _error("missing required field: text or fields", pointer)
        if block.get("text") is not None:
            yield from _text(block["text"], 3000, f"{pointer}/text")
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                yield _error("must be less than 11 items", f"{pointer}/fields")
            else:
                for index, item in enumerate(fields):
                    yield from _text(item, 2000, f"{pointer}/fields/{index}")
        if block.get("accessory") is not None:
            yield from _element(block["accessory"], f"{pointer}/accessory", ids)
    elif kind == "header":
        yield from _text(block.get("text"), 150, f"{pointer}/text", plain=True)
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        most = 10 if kind == "context" else 25
        if not isinstance(elements, list) or not elements:
            yield _error("must be a non-empty array", f"{pointer}/elements")
            return
        if len(elements) > most:
            yield _error(f"must be less than {most + 1} items", f"{pointer}/elements")
        for index, element in enumerate(elements):
            yield from _element(element, f"{pointer}/elements/{index}", ids)
    elif kind == "image":
        # https://docs.slack.dev/reference/block-kit/blocks/image-block: alt_text (2000) and
        # exactly one of image_url (3000) or slack_file ({"id"} or {"url"}); title 2000.
        yield from _length(block.get("alt_text"), 2000, f"{pointer}/alt_text", required=True)
        url, slack_file = block.get("image_url"), block.get("slack_file")
        if (url is None) == (slack_file is None):
            yield _error("must have one of image_url or slack_file", pointer)
        if url is not None:
            yield from _length(url, 3000, f"{pointer}/image_url", required=True)
        if slack_file is not None and not (
            isinstance(slack_file, dict)
            and len(slack_file) == 1
            and isinstance(slack_file.get("id") or slack_file.get("url"), str)
        ):
            yield _error("must be a slack_file with an id or a url", f"{pointer}/slack_file")
        if block.get("title") is not None:
            yield from _text(block["title"], 2000, f"{pointer}/title", plain=True)
    elif kind == "input":
        if not in_view:
            yield _error("input blocks are for modals and Home tabs", pointer)
        yield from _text(block.get("label"), 2000, f"{pointer}/label", plain=True)
        if block.get("hint") is not None:
            yield from _text(block["hint"], 2000, f"{pointer}/hint", plain=True)
        yield from _element(block.get("element"), f"{pointer}/element", ids)


def blocks_problems(blocks: Any, pointer: str, *, limit: int, in_view: bool) -> list[str]:
    if not isinstance(blocks, list):
        return [_error("must be an array", pointer)]
    problems = []
    if len(blocks) > limit:
        problems.append(_error(f"must be less than {limit + 1} items", pointer))
    ids = _Ids()
    for index, block in enumerate(blocks):
        problems += _block(block, f"{pointer}/{index}", ids, in_view=in_view)
    return problems


def view_problems(view: Any) -> list[str]:
    """What Slack would refuse in a view (`views.open` / `views.update` / `views.publish`)."""
    if not isinstance(view, dict):
        return [_error("must be an object", "/view")]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(_error("must be modal or home", "/view/type"))
    if kind == "modal":
        problems += _text(view.get("title"), 24, "/view/title", plain=True)
        for button in ("submit", "close"):
            if view.get(button) is not None:
                problems += _text(view[button], 24, f"/view/{button}", plain=True)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and view.get("submit") is None:
            problems.append(_error("a modal with inputs needs submit", "/view/submit"))
    problems += _length(view.get("private_metadata"), 3000, "/view/private_metadata")
    problems += _length(view.get("callback_id"), 255, "/view/callback_id")
    problems += _length(view.get("external_id"), 255, "/view/external_id")
    problems += blocks_problems(view.get("blocks"), "/view/blocks", limit=VIEW_BLOCKS, in_view=True)
    return problems


def message_problems(message: Any) -> list[str]:
    """What Slack would refuse in a message's blocks (chat.postMessage and friends)."""
    if not isinstance(message, dict):
        return [_error("must be an object", "/")]
    problems: list[str] = []  # a text past 40,000 characters is cut, not refused
    if message.get("blocks") is not None:
        problems += blocks_problems(
            message["blocks"], "/blocks", limit=MESSAGE_BLOCKS, in_view=False
        )
    return problems
