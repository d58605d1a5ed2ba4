"""C2SP tlog-tiles over the stored log: tile paths, hash tiles and entry bundles, as far as the newest checkpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from loaders import tlog
from loaders.db import Db

WIDTH = 256  # hashes per full tile: tiles of height 8
HEIGHT = 8
MAX_LEVEL = 5  # tlog-tiles: <L> between 0 and 5
MAX_ELEMENTS = 6  # a tile index of a 64-bit log has at most 17 digits: six 3-digit elements
MAX_PATH = 64  # longer than any valid path (entries/, six elements, .p/<W>)
_ELEMENT = re.compile(r"x\d{3}")
_LAST = re.compile(r"\d{3}")
_PARTIAL = re.compile(r"[1-9]\d{0,2}")


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (`level` 0..5) or, with `level` None, an entry bundle; `width` below WIDTH is partial."""

    level: int | None
    index: int
    width: int


def parse(path: str) -> Tile | None:
    """`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (N in 3-digit elements, `x` on all but the last), or None."""
    if len(path) > MAX_PATH:
        return None
    parts = path.split("/")
    width = WIDTH
    if len(parts) >= 3 and parts[-2].endswith(".p"):
        if not _PARTIAL.fullmatch(parts[-1]) or int(parts[-1]) >= WIDTH:
            return None
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2].removesuffix(".p")]
    index = _index(parts[1:]) if len(parts) >= 2 else None
    if index is None:
        return None
    if parts[0] == "entries":
        return Tile(None, index, width)
    level = _level(parts[0])
    return None if level is None else Tile(level, index, width)


def _level(text: str) -> int | None:
    # not str.isdigit, which takes any Unicode digit (Arabic-Indic 0 named level 0 as a second spelling)
    return int(text) if len(text) == 1 and "0" <= text <= str(MAX_LEVEL) else None


def _index(elements: list[str]) -> int | None:
    *head, last = elements
    if (
        len(elements) > MAX_ELEMENTS
        or not _LAST.fullmatch(last)
        or not all(_ELEMENT.fullmatch(e) for e in head)
    ):
        return None
    index = int("".join(e.removeprefix("x") for e in head) + last)
    return index if tile_path_index(index) == "/".join(elements) else None  # one spelling per index


def tile_path_index(index: int) -> str:
    """1234067 -> x001/x234/067."""
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


async def read(db: Db, tile: Tile) -> bytes | None:
    """The tile's bytes, if all of it lies within the newest checkpoint's tree; else None."""
    checkpoint = await tlog.latest_checkpoint(db)
    size = 0 if checkpoint is None else checkpoint.tree_size
    start = tile.index * WIDTH
    if tile.level is None:
        if start + tile.width > size:
            return None
        return b"".join(len(x).to_bytes(2, "big") + x for x in await tlog.leaf_range(db, start, tile.width))
    if start + tile.width > size >> (tile.level * HEIGHT):
        return None
    return b"".join(await tlog.node_range(db, tile.level * HEIGHT, start, tile.width))
