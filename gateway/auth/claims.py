"""Verified token claims to a `Principal`: exact scope tokens, 4-hex manufacturer ids, who is calling."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from resolvers.principal import Principal

MANUFACTURER_ID = re.compile(r"[0-9A-F]{4}")
_SEPARATORS = re.compile(r"[\s,]+")


def scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scope tokens from `scope` (space separated) and `scp` (array, or a string as Entra ID sends it)."""
    return frozenset(_words(claims.get("scope"), r"\s+")) | frozenset(_words(claims.get("scp"), r"\s+"))


def manufacturers(value: object) -> frozenset[str]:
    """Well-formed manufacturer identifiers, upper-cased; anything else in the claim is ignored."""
    candidates = (word.strip().upper() for word in _words(value, _SEPARATORS.pattern))
    return frozenset(c for c in candidates if MANUFACTURER_ID.fullmatch(c))


def principal(claims: Mapping[str, Any], manufacturer_claim: str) -> Principal:
    client_id = _first_string(claims, ("client_id", "azp", "appid"))
    return Principal(
        subject=_first_string(claims, ("sub",)) or client_id,
        scopes=scopes(claims),
        manufacturers=manufacturers(claims.get(manufacturer_claim)),
        organisation=_first_string(claims, ("org", "organisation")) or client_id,
        client_id=client_id,
        claims=dict(claims),
    )


def _words(value: object, separator: str) -> list[str]:
    """A string is split on `separator`; each item of an array is one word, taken whole or not at all."""
    if isinstance(value, str):
        return [word for word in re.split(separator, value) if word]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _first_string(claims: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None
