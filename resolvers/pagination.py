"""Relay cursor pagination: opaque cursors over keyset positions, page size capped."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import BadUserInput

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"[0-9]{1,19}")
# What a cursor we issue can hold after its prefix: identifiers, numbers and separators only.
_POSITION = re.compile(r"[0-9A-Za-z/._-]{1,64}")


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("after is not a cursor this list issued", field="after") from None
    prefix, _, key = raw.partition(":")
    if prefix != kind or not _POSITION.fullmatch(key):
        raise BadUserInput("after is not a cursor this list issued", field="after")
    return key


def parse_decimal(text: str, maximum: int) -> int | None:
    """ASCII digits only (str.isdigit and int accept other scripts' digits), within 0..maximum."""
    if not _DECIMAL.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def decimal_position(kind: str, cursor: str | None, maximum: int) -> int | None:
    """The position of a list keyed by a number (CPL entry number, audit event id)."""
    key = decode_cursor(kind, cursor)
    if key is None:
        return None
    position = parse_decimal(key, maximum)
    if position is None:
        raise BadUserInput("after is not a cursor this list issued", field="after")
    return position


def page_size(first: int | None, maximum: int) -> int:
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if first < 0:
        raise BadUserInput("first must not be negative", field="first")
    if first > maximum:
        raise BadUserInput(f"first must be at most {maximum}", field="first")
    return first


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.items[0][0] if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def make_page(kind: str, rows: list[T], limit: int, key: Callable[[T], str], *, after: str | None) -> Page[T]:
    """`rows` was fetched with limit + 1: the extra row only tells that a next page exists."""
    shown = rows[:limit]
    return Page(
        items=[(encode_cursor(kind, key(r)), r) for r in shown],
        has_next_page=len(rows) > limit,
        has_previous_page=after is not None,
    )
