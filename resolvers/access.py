"""The access rules a field, mutation or entity can be declared with: who passes, and the scopes printed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from resolvers.principal import ADMIN, PUBLISH, READ, Principal
from resolvers.visibility import can_see_fir_of, is_owner_or_secas

# (principal, the manufacturer whose record it is, or None when not known) -> allowed
Check = Callable[[Principal, str | None], bool]


@dataclass(frozen=True)
class Rule:
    name: str
    check: Check
    # @requiresScopes: alternatives, each all-of. The check may be narrower (row-level), never wider.
    scopes: tuple[tuple[str, ...], ...]
    needs: str
    """How a refusal names what is missing."""

    def allows(self, principal: Principal, owner: str | None) -> bool:
        return self.check(principal, owner)


def _anyone(principal: Principal, owner: str | None) -> bool:
    return True


def _secas(principal: Principal, owner: str | None) -> bool:
    return principal.is_admin


def _whole_fir(principal: Principal, owner: str | None) -> bool:
    return principal.can_read


PUBLIC = Rule("public", _anyone, (), "nothing")
FIR = Rule(
    "fir",
    can_see_fir_of,
    ((READ,), (PUBLISH,), (ADMIN,)),
    "scope fir:read (or fir:publish for its own records)",
)
OWNER = Rule(
    "owner", is_owner_or_secas, ((PUBLISH,), (ADMIN,)), "fir:admin, or fir:publish for this manufacturer"
)
SECAS = Rule("secas", _secas, ((ADMIN,),), "scope fir:admin")
# every manufacturer's published records at once (the FIR spreadsheet): fir:publish alone does not pass
READER = Rule("reader", _whole_fir, ((READ,), (ADMIN,)), "scope fir:read")
