"""Device identity: normalisation of the four hex fields (case, spaces, firmware coding) and their validation."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from loaders.frozen import frozen
from resolvers import cpl_codes
from resolvers.errors import BadUserInput

_HEX = {n: re.compile(rf"[0-9A-F]{{{n}}}") for n in (4, 8, 64)}


@frozen
class Identity:
    manufacturer_id: str
    model_id: str
    hardware_version: str
    firmware_version: str

    @property
    def model_key(self) -> tuple[str, str, str]:
        """Model and hardware version: the scope of lineage, latest and upgrade paths."""
        return (self.manufacturer_id, self.model_id, self.hardware_version)


def normalise_hex(value: str | None, digits: int) -> str | None:
    """Upper-case hex of exactly `digits` digits, surrounding spaces ignored; None when malformed."""
    if value is None:
        return None
    cleaned = cpl_codes.ascii_upper(value.strip())
    return cleaned if _HEX[digits].fullmatch(cleaned) else None


def normalise_firmware(value: str | None) -> str | None:
    """8 hex digits from any coding the CPL import accepts (`0x` prefix, dotted octets, leading zeros
    lost): the one rule, cpl_codes.firmware_version, for the CPL, identity input and upgrade sources."""
    # the plain form first: a fleet of a million devices is almost all of it
    return normalise_hex(value, 8) or (None if value is None else cpl_codes.firmware_version(value))


def _hex4(value: str | None) -> str | None:
    return normalise_hex(value, 4)


# (GraphQL field, hex digits, normaliser), in identity order
FIELDS: tuple[tuple[str, int, Callable[[str | None], str | None]], ...] = (
    ("manufacturerId", 4, _hex4),
    ("modelId", 4, _hex4),
    ("hardwareVersion", 4, _hex4),
    ("firmwareVersion", 8, normalise_firmware),
)


def normalise_identity(values: Sequence[str | None]) -> list[str | None]:
    """The four identity fields normalised; None for each malformed one."""
    return [normalise(value) for value, (_, _, normalise) in zip(values, FIELDS, strict=True)]


# An error quotes the caller's value so it can be recognised, never a huge input in full.
QUOTE_LIMIT = 40


def quoted(value: object) -> str:
    text = repr(value)
    return text if len(text) <= QUOTE_LIMIT else f"{text[:QUOTE_LIMIT]}… ({len(text)} characters)"


def hex_problem(value: str | None, digits: int) -> str:
    return f"must be {digits} hexadecimal digits, got {quoted(value)}"


def require_firmware(value: str | None, field: str) -> str:
    cleaned = normalise_firmware(value)
    if cleaned is None:
        raise BadUserInput(f"{field} {hex_problem(value, 8)}", field=field)
    return cleaned


def require_hex(value: str | None, digits: int, field: str) -> str:
    cleaned = normalise_hex(value, digits)
    if cleaned is None:
        raise BadUserInput(f"{field} {hex_problem(value, digits)}", field=field)
    return cleaned


def optional_hex(value: str | None, digits: int, field: str) -> str | None:
    """A filter argument: None when not given, else `require_hex`."""
    return None if value is None else require_hex(value, digits, field)


def identity_problem(values: Sequence[str | None]) -> tuple[str, str] | None:
    """The first malformed field of an identity as (field, message), or None when it is well formed."""
    for (field, digits, _), value, clean in zip(FIELDS, values, normalise_identity(values), strict=True):
        if clean is None:
            return field, f"{field} {hex_problem(value, digits)}"
    return None


def parse_identity(
    manufacturer_id: str | None,
    model_id: str | None,
    hardware_version: str | None,
    firmware_version: str | None,
    *,
    prefix: str = "",
) -> Identity:
    return Identity(
        require_hex(manufacturer_id, 4, prefix + "manufacturerId"),
        require_hex(model_id, 4, prefix + "modelId"),
        require_hex(hardware_version, 4, prefix + "hardwareVersion"),
        require_firmware(firmware_version, prefix + "firmwareVersion"),
    )
