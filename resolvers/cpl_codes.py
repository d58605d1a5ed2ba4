"""How the CPL writes its codes, normalised once: hex fields, hardware octets, firmware coding, hashes,
device types, entry numbers; shared by the CPL import and identity input."""

from __future__ import annotations

import re
from datetime import date, datetime

from loaders.vocabulary import CplStatus

# How the CPL names device types; the export prints these back.
CPL_DEVICE_TYPE_NAMES: dict[str, str] = {
    "ESME": "Electricity Smart Meter",
    "GSME": "Gas Smart Meter",
    "CHF": "Communications Hub",
    "GPF": "Gas Proxy Function",
    "PPMID": "PPMID",
    "HCALCS": "HCALCS",
    "IHD": "IHD",
    "CAD": "CAD",
}
_DEVICE_TYPE_ALIASES: dict[str, str] = {
    "electricity smart meter": "ESME",
    "gas smart meter": "GSME",
    "communications hub": "CHF",
    "communications hub function": "CHF",
    "comms hub": "CHF",
    "gas proxy function": "GPF",
    "prepayment meter interface device": "PPMID",
    "han connected auxiliary load control switch": "HCALCS",
    "in home display": "IHD",
    "consumer access device": "CAD",
    **{code.lower(): code for code in CPL_DEVICE_TYPE_NAMES},
}
_STATUSES = {status.value: status.value for status in CplStatus}

_MAX_NUMBER = 2**31 - 1

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-F]+")
_WHITESPACE = re.compile(r"\s+")
_SEPARATED_OCTETS = re.compile(r"[0-9A-F]{1,2}(?:[.:\- ][0-9A-F]{1,2}){3}")
_OCTET_SEPARATOR = re.compile(r"[.:\- ]")
_CODE_IN_PARENS = re.compile(r"\(([A-Za-z]+)\)\s*$")
_INTEGRAL = re.compile(r"([0-9]+)(?:\.0*)?")
_POINT_ZERO = re.compile(r"([0-9]+)\.0+")


class ScientificNumber(float):
    """A number a workbook shows in scientific notation (its cell's format, `0.00E+00`): Excel
    makes one of a code typed as `1E02` or `00001E05`, and the code cannot be read back from it
    (100 was `1E02`, not `0100`). As a number it is what it is; a code column refuses it."""


# how a csv exported from such a workbook prints one: 1E+02, 1.00E+02
_SCIENTIFIC_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?E[+-][0-9]+")
SCIENTIFIC_REASON = (
    "the workbook holds this code as a number in scientific notation ({shown}), which cannot be read"
    " back as the code typed: format the column as Text and enter the code again"
)


def scientific(value: object) -> bool:
    """A cell that is, or was printed from, a number in scientific notation (ScientificNumber)."""
    if isinstance(value, ScientificNumber):
        return True
    return isinstance(value, str) and _SCIENTIFIC_TEXT.fullmatch(value.strip().upper()) is not None


def ascii_upper(text: str) -> str:
    """Upper case for ASCII text only: str.upper() turns the ligature 'ﬀ' into 'FF', a 3-character
    code into 4 hex digits; non-ASCII text is left as it is, and no code pattern takes it."""
    return text.upper() if text.isascii() else text


def shown_text(value: object) -> str:
    """A cell as the workbook shows it: a ScientificNumber as 1.00E+02, anything else as cell_text."""
    return f"{value:.2E}" if isinstance(value, ScientificNumber) else cell_text(value)


def cell_text(value: object) -> str:
    """A cell as trimmed text; integral floats (xlsx stores every number as one) lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _code_text(value: object) -> str:
    """Upper-case text of a hex code; `1.0` is a number a csv export printed as a float."""
    text = ascii_upper(cell_text(value))
    integral = _POINT_ZERO.fullmatch(text)
    return integral.group(1) if integral else text


def _hex_number(text: str, digits: int) -> str | None:
    """Fixed-width hex; a short all-decimal value is left-padded, since that is exactly what a
    spreadsheet leaves of a hex code it took for a number (03030236 -> 3030236)."""
    if text.startswith("0X"):
        # an explicit hex literal is a number too: padding it on the left cannot change it
        text = text[2:]
        return text.zfill(digits) if 0 < len(text) <= digits and _HEX.fullmatch(text) else None
    if len(text) == digits and _HEX.fullmatch(text):
        return text
    if 0 < len(text) < digits and _DIGITS.fullmatch(text):
        return text.zfill(digits)
    return None


def hex_field(value: object, digits: int) -> str | None:
    return _hex_number(_code_text(value), digits)


def octet(value: object) -> str | None:
    """One hardware octet: the CPL prints 1 or 2 hex digits (version `0`, revision `AC`)."""
    text = _code_text(value).removeprefix("0X")
    return text.zfill(2) if 0 < len(text) <= 2 and _HEX.fullmatch(text) else None


def firmware_version(value: object) -> str | None:
    """8 hex digits, BCD- or hex-coded alike (both are stored as the 4 octets the device reports).

    Also accepted, because each has one reading: a `0x` prefix; four separated octets of 1-2
    digits (`12.40.74.DA`, `3.3.2.36`); a decimal value shorter than 8 digits (leading zeros
    lost in a spreadsheet). Rejected as ambiguous: other dotted forms (`1.2.3`), 3-digit groups,
    short values containing hex letters.
    """
    # not _code_text: "1.0" as firmware text may be a dotted version, so it stays ambiguous
    text = ascii_upper(cell_text(value))
    if _SEPARATED_OCTETS.fullmatch(text):
        return "".join(part.zfill(2) for part in _OCTET_SEPARATOR.split(text))
    return _hex_number(text, 8)


def image_hash(value: object) -> str | None:
    text = ascii_upper(_WHITESPACE.sub("", cell_text(value))).removeprefix("0X")
    return text if len(text) == 64 and _HEX.fullmatch(text) else None


def device_type(value: object) -> str | None:
    """A device type code from its CPL name, a known alias, or the code itself."""
    text = cell_text(value)
    in_parens = _CODE_IN_PARENS.search(text)
    if in_parens and in_parens.group(1).upper() in CPL_DEVICE_TYPE_NAMES:
        return in_parens.group(1).upper()
    key = _WHITESPACE.sub(" ", text.replace("-", " ").replace("_", " ")).strip().lower()
    return _DEVICE_TYPE_ALIASES.get(key)


def entry_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    match = _INTEGRAL.fullmatch(cell_text(value))
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= _MAX_NUMBER else None


def optional_text(value: object) -> str | None:
    return cell_text(value) or None


def cpl_status(value: object) -> str | None:
    return _STATUSES.get(cell_text(value).upper())
