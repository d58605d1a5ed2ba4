"""The equivalent query on both sides: PostGraphile's and FIR graph's, and the rows each answer holds."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from loaders.demo import Identity
from tests.perf import lineage

# The peer's closest equivalent of what one lineage request reads: the CPL entry by its four identity
# columns (the unique constraint cpl_entries_identity), its model, manufacturer and live contacts, and
# the published releases of that model and hardware version, each with its CPL entry's status and its
# upgrade edges. Published only: that is all a fir:read caller is shown, and what FIR graph returns.
PEER_QUERY = (
    "query($m: Hex4!, $mo: Hex4!, $hw: Hex4!, $fw: Hex8!) {"
    " cplEntryByManufacturerIdAndModelIdAndHardwareVersionAndFirmwareVersion("
    "manufacturerId: $m, modelId: $mo, hardwareVersion: $hw, firmwareVersion: $fw) {"
    " number status deviceType imageHash"
    " deviceModelByManufacturerIdAndModelId { manufacturerId modelId name deviceType"
    " manufacturerByManufacturerId { manufacturerId name website"
    " contactsByManufacturerId(condition: {retiredAt: null}, orderBy: [POSITION_ASC, PRIMARY_KEY_ASC])"
    " { nodes { role name email phone } } }"
    " firmwareReleasesByManufacturerIdAndModelId(condition: {hardwareVersion: $hw, status: PUBLISHED},"
    " orderBy: PRIMARY_KEY_ASC) { nodes { rowId firmwareVersion status releaseDate cplEntryNumber"
    " cplEntryByCplEntryNumber { status }"
    " releaseUpgradableFromsByReleaseId(orderBy: PRIMARY_KEY_ASC) { nodes { fromFirmwareVersion } } } } } } }"
)

# The same rows asked of FIR graph over its own API (cache off): no latest, no upgrade path.
FIR_QUERY = (
    "query($id: DeviceIdentityInput!) { device(identity: $id) {"
    " cplEntry { number status deviceType imageHash }"
    " model { manufacturerId modelId name deviceType }"
    " manufacturer { manufacturerId name website }"
    " contacts { role name email phone }"
    " lineage { id version status releaseDate cplEntryNumber cplEntry { status } upgradableFromVersions } } }"
)


def peer_variables(identity: Identity) -> dict[str, str]:
    return dict(zip(("m", "mo", "hw", "fw"), identity, strict=True))


def peer_bodies(identities: list[Identity]) -> list[bytes]:
    return [orjson.dumps({"query": PEER_QUERY, "variables": peer_variables(i)}) for i in identities]


def fir_bodies(identities: list[Identity]) -> list[bytes]:
    return [orjson.dumps({"query": FIR_QUERY, "variables": {"id": lineage.variables(i)}}) for i in identities]


Rows = list[tuple[Any, ...]]


def peer_rows(answer: dict[str, Any]) -> Rows:
    """The rows in a PostGraphile answer, as sorted tuples (a multiset: order and nesting dropped)."""
    entry = answer["data"]["cplEntryByManufacturerIdAndModelIdAndHardwareVersionAndFirmwareVersion"]
    if entry is None:
        return []
    model = entry["deviceModelByManufacturerIdAndModelId"]
    maker = model["manufacturerByManufacturerId"]
    out: Rows = [
        ("cpl", entry["number"], entry["status"], entry["deviceType"], entry["imageHash"]),
        ("model", model["manufacturerId"], model["modelId"], model["name"], model["deviceType"]),
        ("manufacturer", maker["manufacturerId"], maker["name"], maker["website"]),
    ]
    out += [
        ("contact", c["role"], c["name"], c["email"], c["phone"])
        for c in maker["contactsByManufacturerId"]["nodes"]
    ]
    for r in model["firmwareReleasesByManufacturerIdAndModelId"]["nodes"]:
        cpl = r["cplEntryByCplEntryNumber"]
        sources = tuple(
            sorted(u["fromFirmwareVersion"] for u in r["releaseUpgradableFromsByReleaseId"]["nodes"])
        )
        out.append(
            ("release", str(r["rowId"]), r["firmwareVersion"], r["status"], r["releaseDate"],
             r["cplEntryNumber"], cpl and cpl["status"], sources)
        )  # fmt: skip
    return sorted(out, key=repr)


def fir_rows(answer: dict[str, Any]) -> Rows:
    """The same rows in a FIR graph answer (FIR_QUERY)."""
    device = answer["data"]["device"]
    entry = device["cplEntry"]
    if entry is None:
        return []
    model, maker = device["model"], device["manufacturer"]
    out: Rows = [
        ("cpl", entry["number"], entry["status"], entry["deviceType"], entry["imageHash"]),
        ("model", model["manufacturerId"], model["modelId"], model["name"], model["deviceType"]),
        ("manufacturer", maker["manufacturerId"], maker["name"], maker["website"]),
    ]
    out += [("contact", c["role"], c["name"], c["email"], c["phone"]) for c in device["contacts"] or ()]
    for r in device["lineage"]:
        cpl = r["cplEntry"]
        out.append(
            ("release", r["id"], r["version"], r["status"], r["releaseDate"], r["cplEntryNumber"],
             cpl and cpl["status"], tuple(sorted(r["upgradableFromVersions"])))
        )  # fmt: skip
    return sorted(out, key=repr)


async def disagreements(
    fir: str, token: str, peer: str, identities: list[Identity]
) -> list[tuple[Identity, Any, Any]]:
    """Identities whose rows differ between the two; an error on either side, or no rows at all (a
    comparison of nothing proves nothing), counts as a difference."""
    gate = asyncio.Semaphore(8)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:

        async def one(identity: Identity) -> tuple[Identity, Any, Any]:
            async with gate:
                ours = (await client.post(f"{fir}/graphql", content=fir_bodies([identity])[0])).json()
                theirs = (await client.post(f"{peer}/graphql", content=peer_bodies([identity])[0])).json()
            if "errors" in ours or "errors" in theirs:
                return identity, ours, theirs
            return identity, fir_rows(ours), peer_rows(theirs)

        answers = await asyncio.gather(*(one(i) for i in identities))
    return [(i, a, b) for i, a, b in answers if not isinstance(a, list) or not a or a != b]
