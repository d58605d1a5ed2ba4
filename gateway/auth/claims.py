"""Verified token claims to a `Principal`: exact scope tokens, 4-hex manufacturer ids, who is calling."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from resolvers.cpl_codes import ascii_upper
from resolvers.errors import Unauthenticated
from resolvers.principal import Principal

MANUFACTURER_ID = re.compile(r"[0-9A-F]{4}")
_SEPARATORS = re.compile(r"[\s,]+")


def scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scope tokens from `scope` (space separated) and `scp` (array, or a string as Entra ID sends it)."""
    return frozenset(_words(claims.get("scope"), r"\s+")) | frozenset(_words(claims.get("scp"), r"\s+"))


def manufacturers(value: object, claim: str = "manufacturer") -> frozenset[str]:
    """Manufacturer identifiers, upper-cased, from a string or a list of strings, parsed the same way.

    Each string may hold several identifiers separated by spaces or commas; every one must be exactly
    4 hex digits. Anything else refuses the token: a mapper that emits the wrong value would otherwise
    silently take a publisher's rights away (or, mistyped, give another manufacturer's).
    """
    if value is None:
        return frozenset()
    items: list[object] = value if isinstance(value, list) else [value]
    strings = [item for item in items if isinstance(item, str)]
    if len(strings) != len(items):
        raise Unauthenticated(f"the {claim} claim must be a string or a list of strings")
    # ASCII only: 'ﬀ'.upper() is 'FF', and '10ﬀ' would have been bound as manufacturer 10FF
    found = [ascii_upper(word) for item in strings for word in _SEPARATORS.split(item) if word]
    if not all(MANUFACTURER_ID.fullmatch(word) for word in found):
        raise Unauthenticated(f"every {claim} value must be exactly 4 hex digits")
    return frozenset(found)


# Claims only OpenID Connect ID tokens carry (Core 1.0, sections 3.1.3.6, 3.3.2.11, and FAPI's s_hash)
_ID_TOKEN_ONLY = ("at_hash", "c_hash", "s_hash")


def looks_like_id_token(claims: Mapping[str, Any]) -> bool:
    """A second line behind the `typ` check, for operators who accept `JWT` (providers that cannot send
    at+jwt also type their ID tokens JWT): Keycloak's `typ: ID` claim, or a hash only ID tokens bear."""
    typ = claims.get("typ")
    if isinstance(typ, str) and typ.lower() in {"id", "id_token"}:
        return True
    return any(name in claims for name in _ID_TOKEN_ONLY)


def principal(claims: Mapping[str, Any], manufacturer_claim: str) -> Principal:
    client_id = _first_string(claims, ("client_id", "azp", "appid"))
    return Principal(
        subject=_first_string(claims, ("sub",)) or client_id,
        scopes=scopes(claims),
        manufacturers=manufacturers(claims.get(manufacturer_claim), manufacturer_claim),
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
