"""Device identity: normalisation of the four hex fields (case, spaces) and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from resolvers.errors import BadUserInput

_HEX = {n: re.compile(rf"[0-9A-F]{{{n}}}") for n in (4, 8, 64)}

FIELDS = (
    ("manufacturerId", 4),
    ("modelId", 4),
    ("hardwareVersion", 4),
    ("firmwareVersion", 8),
)


@dataclass(frozen=True, slots=True)
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
    cleaned = value.strip().upper()
    return cleaned if _HEX[digits].fullmatch(cleaned) else None


def hex_problem(value: str | None, digits: int) -> str:
    return f"must be {digits} hexadecimal digits, got {value!r}"


def require_hex(value: str | None, digits: int, field: str) -> str:
    cleaned = normalise_hex(value, digits)
    if cleaned is None:
        raise BadUserInput(f"{field} {hex_problem(value, digits)}", field=field)
    return cleaned


def identity_problem(values: tuple[str | None, str | None, str | None, str | None]) -> tuple[str, str] | None:
    """The first malformed field of an identity as (field, message), or None when it is well formed."""
    for (field, digits), value in zip(FIELDS, values, strict=True):
        if normalise_hex(value, digits) is None:
            return field, f"{field} {hex_problem(value, digits)}"
    return None


def parse_identity(
    manufacturer_id: str, model_id: str, hardware_version: str, firmware_version: str, *, prefix: str = ""
) -> Identity:
    return Identity(
        require_hex(manufacturer_id, 4, prefix + "manufacturerId"),
        require_hex(model_id, 4, prefix + "modelId"),
        require_hex(hardware_version, 4, prefix + "hardwareVersion"),
        require_hex(firmware_version, 8, prefix + "firmwareVersion"),
    )
