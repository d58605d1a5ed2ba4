"""Rules every write shares: who may write and how text input is cleaned (the write path: unit_of_work)."""

from __future__ import annotations

from resolvers.errors import BadUserInput, Forbidden
from resolvers.principal import Principal
from resolvers.visibility import is_owner_or_secas


def require_publisher(principal: Principal, manufacturer_id: str, field: str) -> None:
    """The row-level half of the mutations' OWNER rule (schema.access): this manufacturer's publisher, or SECAS."""
    if not is_owner_or_secas(principal, manufacturer_id):
        raise Forbidden(f"you may not change firmware records of manufacturer {manufacturer_id}", field=field)


# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text display
# as other text ("Desk\u202egnp.exe" shows as "Deskexe.png"): no name, note or advisory needs them,
# and a supplier must read what a manufacturer wrote. Marks (LRM, RLM) stay: they only nudge.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: str | None, field: str, *, max_length: int, required: bool = False) -> str | None:
    """Trimmed text; blank counts as absent, and absent is refused when `required`."""
    cleaned = value.strip() if value is not None else None
    if not cleaned:
        if required:
            raise BadUserInput(f"{field} must not be blank", field=field)
        return None
    if len(cleaned) > max_length:
        raise BadUserInput(f"{field} must be at most {max_length} characters", field=field)
    if not _BIDI_CONTROLS.isdisjoint(cleaned):
        raise BadUserInput(
            f"{field} holds a bidirectional control character (U+202A-U+202E, U+2066-U+2069),"
            " which would make it display as other text",
            field=field,
        )
    return cleaned


def require_text(value: str, field: str, *, max_length: int) -> str:
    cleaned = clean_text(value, field, max_length=max_length, required=True)
    assert cleaned is not None
    return cleaned
