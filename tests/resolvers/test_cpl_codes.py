"""The CPL's codes normalised: firmware coding, hardware octets, identifiers, device types, hashes, numbers."""

from __future__ import annotations

import pytest

from resolvers import cpl_codes as codes
from resolvers.identity import normalise_firmware, normalise_identity
from tests.fixtures_cpl import HASH_1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("124074DA", "124074DA"),
        (" 124074da ", "124074DA"),
        ("0x124074da", "124074DA"),
        ("03030236", "03030236"),
        (3030236, "03030236"),  # xlsx took it for a number and dropped the zero
        (3030236.0, "03030236"),
        ("3030236", "03030236"),
        ("12.40.74.DA", "124074DA"),
        ("3.3.2.36", "03030236"),
        ("12:40:74:da", "124074DA"),
        ("0x1", "00000001"),
        ("124074D", None),  # a short value with a hex letter: which digit is missing?
        ("1.2.3", None),
        ("1.0", None),
        ("124.0.74.218", None),
        ("124074DA0", None),
        ("12G074DA", None),
        ("", None),
        (None, None),
    ],
)
def test_firmware_version_coding(raw: object, expected: str | None) -> None:
    assert codes.firmware_version(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", "00"),
        (0, "00"),
        (1.0, "01"),
        ("1.0", "01"),
        ("ac", "AC"),
        (" AC ", "AC"),
        ("A", "0A"),
        ("100", None),
    ],
)
def test_hardware_octets(raw: object, expected: str | None) -> None:
    assert codes.octet(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("106c", "106C"), (1063, "1063"), (63.0, "0063"), ("0x6C", "006C"), ("10 6C", None), ("106C0", None)],
)
def test_four_hex_digit_identifiers(raw: object, expected: str | None) -> None:
    assert codes.hex_field(raw, 4) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Electricity Smart Meter", "ESME"),
        ("gas smart meter ", "GSME"),
        ("Communications Hub", "CHF"),
        ("Gas Proxy Function", "GPF"),
        ("PPMID", "PPMID"),
        ("Prepayment Meter Interface Device", "PPMID"),
        ("HCALCS", "HCALCS"),
        ("IHD", "IHD"),
        ("In-Home Display", "IHD"),
        ("CAD", "CAD"),
        ("Consumer Access Device", "CAD"),
        ("esme", "ESME"),
        ("Gas Smart Meter (GSME)", "GSME"),
        ("Water Meter", None),
    ],
)
def test_device_types(raw: str, expected: str | None) -> None:
    assert codes.device_type(raw) == expected


def test_hash_and_number() -> None:
    assert codes.image_hash(HASH_1.lower() + " ") == HASH_1
    assert codes.image_hash(HASH_1[:63]) is None
    assert [codes.entry_number(v) for v in (1, 1.0, "23", " 7 ", "2.0")] == [1, 1, 23, 7, 2]
    assert [codes.entry_number(v) for v in (0, -1, 1.5, "x", None, True, 2**31)] == [None] * 7


@pytest.mark.parametrize(
    "raw", ["124074da", "0x124074da", "12.40.74.DA", "3.3.2.36", "3030236", "124074D", "1.2.3", ""]
)
def test_identity_input_reads_firmware_as_the_cpl_import_does(raw: str) -> None:
    assert normalise_firmware(raw) == codes.firmware_version(raw)


@pytest.mark.parametrize("value", ["10\ufb00", "\ufb00\ufb00", "12\ufb00\ufb00"])
def test_a_ligature_is_not_two_hex_digits(value: str) -> None:
    """'ﬀ'.upper() is 'FF': a 3-character value passed as 4 hex digits, and a fleet counted it a device."""
    assert normalise_identity([value, "4331", "00AC", "124074DA"])[0] is None
    assert codes.hex_field(value, 4) is None and codes.hex_field(value, 2 + len(value)) is None
    assert (
        normalise_firmware("124074" + "\ufb00") is None and codes.firmware_version("1240\ufb00\ufb00") is None
    )
    assert codes.image_hash(HASH_1[:62] + "\ufb00") is None
