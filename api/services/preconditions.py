"""If-Match on a change to a task: required, well formed, naming versions (RFC 9110 13.1.1).

A malformed header is the caller's mistake and answered as such (400), never as a version that
moved on (412): `If-Match: 3` lacks the quotes, it does not name another version. `*` would let
the change through whatever the task's version, so a change must name the version it was made on.
"""

from __future__ import annotations

import re

from api.problems import MalformedHeader, PreconditionRequired
from api.schemas import TaskPublic

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"')
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


def entity_tags(raw: str) -> list[str] | None:
    """The entity tags an If-Match list names, or None if it is not such a list (`*` is not)."""
    tags: list[str] = []
    position, text = 0, raw.strip(" \t")
    while True:
        tag = _ENTITY_TAG.match(text, position)
        if tag is None:
            return None
        tags.append(tag.group())
        position = tag.end()
        if position == len(text):
            return tags
        separator = _SEPARATOR.match(text, position)
        if separator is None:
            return None
        position = separator.end()


def parse_if_match(if_match: str | None, *, missing: str, source: str) -> list[str]:
    """The entity tags the request names: 428 (`missing` says what to send) without If-Match,
    400 unless it is a list of quoted entity tags (the quotes missing, `*`, anything else);
    `source` says where the caller reads the ETag."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(missing)
    value = if_match.strip(" \t")
    if value == "*":
        raise MalformedHeader(
            "If-Match: * would apply the change whatever the version is; send the ETag you "
            f"read, from {source}, in double quotes (e.g. If-Match: \"3\")",
            header="If-Match",
        )
    tags = entity_tags(value)
    if tags is None:
        unquoted = value.strip('"')
        hint = (
            f'put the ETag in double quotes: If-Match: "{unquoted}", not If-Match: {value}'
            if unquoted and _ENTITY_TAG.fullmatch(f'"{unquoted}"')
            else 'send an ETag in double quotes, e.g. If-Match: "3"'
        )
        raise MalformedHeader(
            f"If-Match is not an entity tag: {hint}; copy it from {source}", header="If-Match"
        )
    return tags


def require_if_match(*, task: TaskPublic, if_match: str | None) -> list[str]:
    """A task's If-Match, parsed: 428 without it, 400 if malformed."""
    return parse_if_match(
        if_match,
        missing=f"send If-Match with task {task.id}'s ETag (from GET /tasks/{task.id}), so the "
        "change cannot overwrite one you have not seen",
        source=f"the ETag header of GET /tasks/{task.id}",
    )


def matches(tags: list[str], current: str) -> bool:
    """Strong comparison: a weak tag (W/"...") never matches."""
    return current in tags


def mismatch_detail(*, tags: list[str], current: str, source: str, stale: str) -> str:
    """What a 412 says: weak tags never match; else `stale` (the version moved on)."""
    if all(tag.startswith("W/") for tag in tags):
        return (
            f"If-Match names only weak entity tags ({', '.join(tags)}), which never match a "
            f"change; send the strong ETag from {source} ({current})"
        )
    return stale
