"""Relay cursor pagination: opaque cursors over keyset positions, page size capped."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import BadUserInput

T = TypeVar("T")
P = TypeVar("P")
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


def decimal_key(maximum: int) -> Callable[[str | None], int | None]:
    """The position of a list keyed by a number (CPL entry number, audit event id)."""

    def position(key: str | None) -> int | None:
        if key is None:
            return None
        found = parse_decimal(key, maximum)
        if found is None:
            raise BadUserInput("after is not a cursor this list issued", field="after")
        return found

    return position


def serial_key(key: str | None) -> int | None:
    """The position of a list keyed by a bigserial (change feed position, release id): under 19 digits."""
    if key is None:
        return None
    if not (key.isascii() and key.isdigit() and len(key) < 19):  # not Unicode digits, which int() reads
        raise BadUserInput("after is not a cursor this list issued", field="after")
    return int(key)


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


@dataclass(frozen=True, slots=True)
class Keyset(Generic[P, T]):
    """How one list pages: its cursors' kind, a cursor key read as a position, a row's cursor key."""

    kind: str
    position: Callable[[str | None], P]  # None: no cursor; raises BadUserInput for a key it refuses
    key: Callable[[T], str]

    def position_of(self, cursor: str | None) -> P:
        return self.position(decode_cursor(self.kind, cursor))


async def fetch_page(
    keyset: Keyset[P, T],
    first: int | None,
    after: str | None,
    maximum: int,
    fetch: Callable[[P, int], Awaitable[Sequence[T]]],
    prime: Callable[[T], object] | None = None,
) -> Page[T]:
    """The page recipe, once: check `first`, read `after`, fetch one row more than shown, prime.

    `fetch(position, limit)` runs the list's keyset query; `prime` hands each row to the
    per-request loader that would otherwise fetch it again for the fields below.
    """
    limit = page_size(first, maximum)
    found = list(await fetch(keyset.position_of(after), limit + 1))
    if prime is not None:
        for row in found:
            prime(row)
    return make_page(keyset.kind, found, limit, keyset.key, after=after)
