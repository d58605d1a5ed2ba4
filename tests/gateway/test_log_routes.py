"""The log's tile route answers 400 to any malformed path, however long, before touching the database."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from gateway import log_routes
from resolvers import log_tiles


async def test_an_oversized_tile_path_is_a_400_not_a_500() -> None:
    app = Starlette(routes=log_routes.routes())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    many = "x000/" * 1500 + "000"  # 4,503 digits: more than int() accepts
    seven = "0/x001/x002/x003/x004/x005/x006/007"  # 19 digits: no 64-bit log has that tile
    async with httpx.AsyncClient(transport=transport, base_url="http://fir") as client:
        for bad in (f"0/{many}", f"entries/{many}", f"0/{many}.p/5", seven, "0/" + "9" * 5000):
            response = await client.get(f"/log/tile/{bad}")
            assert response.status_code == 400, (bad[:40], response.status_code)
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_largest_valid_index_still_parses() -> None:
    largest = (2**64 - 1) // log_tiles.WIDTH  # 17 digits, six elements
    path = log_tiles.tile_path_index(largest)
    assert path.count("/") == 5
    assert log_tiles.parse(f"0/{path}") == log_tiles.Tile(0, largest, log_tiles.WIDTH)
    assert log_tiles.parse(f"entries/{path}.p/7") == log_tiles.Tile(None, largest, 7)


def test_a_tile_index_in_other_digits_is_no_tile() -> None:
    """One spelling per tile: Arabic-Indic digits, which int() reads, name none."""
    assert log_tiles.parse("\u0660/007") is None
    assert log_tiles.parse("0/\u0660\u0660\u0667") is None
    assert log_tiles.parse("0/x\u0660\u0660\u0661/007") is None
    assert log_tiles.parse("0/007.p/\u0665") is None
    assert log_tiles.parse("0/007") == log_tiles.Tile(0, 7, log_tiles.WIDTH)


async def test_proof_sizes_in_other_digits_are_a_400_before_the_database() -> None:
    """`index=٣` read as 3 (str.isdigit and int() take Arabic-Indic digits): ASCII digits only."""
    app = Starlette(routes=log_routes.routes())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://fir") as client:
        for path in ("/log/proof/inclusion?index=\u0663&size=4", "/log/proof/consistency?from=1&to=\u0664"):
            response = await client.get(path)
            assert response.status_code == 400, (path, response.status_code)
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
