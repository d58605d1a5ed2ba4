"""The page recipe: `first` checked before the cursor, one row more fetched than shown, every row primed."""

from __future__ import annotations

import pytest

from resolvers.errors import BadUserInput
from resolvers.pagination import INT32_MAX, Keyset, decimal_key, encode_cursor, fetch_page, serial_key

_NUMBERS: Keyset[int | None, int] = Keyset("n", decimal_key(INT32_MAX), str)


async def test_a_page_fetches_one_more_row_than_it_shows_and_primes_each() -> None:
    asked: list[tuple[int | None, int]] = []
    primed: list[int] = []

    async def fetch(position: int | None, limit: int) -> list[int]:
        asked.append((position, limit))
        return [(position or 0) + i for i in range(1, limit + 1)]

    page = await fetch_page(_NUMBERS, 2, encode_cursor("n", "10"), 5, fetch, primed.append)
    assert asked == [(10, 3)]
    assert [row for _, row in page.items] == [11, 12]
    assert primed == [11, 12, 13]
    assert (page.has_next_page, page.has_previous_page) == (True, True)
    assert page.end_cursor == encode_cursor("n", "12")


async def test_first_is_checked_before_the_cursor_and_nothing_is_fetched() -> None:
    async def fetch(position: int | None, limit: int) -> list[int]:
        raise AssertionError("fetched")

    with pytest.raises(BadUserInput) as refused:
        await fetch_page(_NUMBERS, 6, "not a cursor", 5, fetch)
    assert refused.value.field == "first"
    with pytest.raises(BadUserInput, match="not a cursor this list issued"):
        await fetch_page(_NUMBERS, 1, encode_cursor("other", "1"), 5, fetch)


def test_positions_refuse_what_no_list_issued() -> None:
    assert serial_key(None) is None and serial_key("123") == 123
    for key in ("1" * 19, "-1", "1e3", "\u0663"):  # Arabic-Indic 3, which int() reads
        with pytest.raises(BadUserInput):
            serial_key(key)
    with pytest.raises(BadUserInput):
        decimal_key(INT32_MAX)(str(INT32_MAX + 1))
