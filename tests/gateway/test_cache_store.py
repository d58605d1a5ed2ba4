"""The response cache's LRU: entry and byte bounds, oversize answers, races with writes, versions."""

from __future__ import annotations

from gateway.cache_store import CacheKey, ResponseCache


def key(name: str) -> CacheKey:
    return CacheKey(f"{{ {name} }}", None, b"{}", "|")


def test_entries_bound_evicts_least_recently_used() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=1 << 20)
    cache.put(key("a"), b"A", cache.generation)
    cache.put(key("b"), b"B", cache.generation)
    assert cache.get(key("a")) == b"A"  # a is now the most recent
    cache.put(key("c"), b"C", cache.generation)
    assert (cache.get(key("a")), cache.get(key("b")), cache.get(key("c"))) == (b"A", None, b"C")
    assert len(cache) == 2


def test_bytes_bound_evicts_oldest_until_under_budget() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=16 * 1024)
    names = [f"k{i:02}" for i in range(30)]  # about 900 bytes each: 30 of them exceed 16 KiB
    for name in names:
        assert cache.put(key(name), b"x" * 700, cache.generation)
    assert cache.nbytes <= cache.max_bytes
    kept = [name for name in names if cache.get(key(name))]
    assert kept == names[-len(kept) :] and 0 < len(kept) < len(names)
    assert cache.nbytes == sum(700 + key(n).size + 200 for n in kept)


def test_oversize_response_is_not_cached() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=16 * 1024)
    assert not cache.put(key("big"), b"x" * 1024, cache.generation)  # over 1/16 of the budget
    assert cache.get(key("big")) is None and cache.nbytes == 0


def test_replacing_an_entry_keeps_the_byte_count_exact() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=1 << 20)
    cache.put(key("a"), b"x" * 100, cache.generation)
    cache.put(key("a"), b"y" * 10, cache.generation)
    assert cache.get(key("a")) == b"y" * 10 and cache.nbytes == 10 + key("a").size + 200


def test_an_answer_that_raced_a_write_is_not_stored() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=1 << 20)
    cache.reset(5)
    before = cache.generation  # read before executing
    cache.advance(6)  # the write's notification arrives while the query runs
    assert not cache.put(key("a"), b"computed at 5", before)
    assert cache.get(key("a")) is None


def test_versions_clear_forward_only_when_notified_and_on_any_change_when_read() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=1 << 20)
    cache.reset(5)
    cache.put(key("a"), b"A", cache.generation)
    cache.advance(4)  # a late notification: already known
    cache.advance(5)
    assert cache.get(key("a")) == b"A"
    cache.advance(6)
    assert cache.get(key("a")) is None and cache.version == 6
    cache.put(key("a"), b"A", cache.generation)
    cache.reset(2)  # a restored database: older, but different
    assert cache.get(key("a")) is None and cache.version == 2
