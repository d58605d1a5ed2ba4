"""The committed schema.graphql is what the code prints; the contract's names are all there."""

from __future__ import annotations

from pathlib import Path

from schema.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_committed_sdl_matches_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == build_schema().as_str() + "\n", "schema.graphql drifted: run `make schema`"


def test_contract_names_present() -> None:
    sdl = build_schema().as_str()
    for fragment in (
        "device(identity: DeviceIdentityInput!): DeviceFirmwareStatus!",
        "cplEntry(number: Int!): CplEntry",
        "firmwareRelease(id: ID!): FirmwareRelease",
        'type CplEntry @key(fields: "number")',
        'type FirmwareRelease @key(fields: "id")',
        'type Manufacturer @key(fields: "manufacturerId")',
        "lineage: [FirmwareRelease!]!",
        "upgradePath: [FirmwareRelease!]",
        "@requiresScopes",
    ):
        assert fragment in sdl, fragment
