"""Which JWS algorithms a token may use: asymmetric only, never `none` or HMAC."""

from __future__ import annotations

from collections.abc import Iterable

from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.jws import JWSRegistry

ASYMMETRIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
ASYMMETRIC = frozenset(
    name for name, model in JWSRegistry.algorithms.items() if model.key_type in ASYMMETRIC_KEY_TYPES
)


def allowed_algorithms(configured: Iterable[str], advertised: Iterable[str] | None) -> frozenset[str]:
    """The configured algorithms the issuer also advertises (all configured ones if it advertises none)."""
    allowed = ASYMMETRIC & frozenset(configured)
    return allowed if advertised is None else allowed & frozenset(advertised)


class TokenRegistry(JWSRegistry):
    """A JWS registry that accepts exactly `allowed` and tolerates unregistered header names.

    Providers add their own header parameters (Entra's `x5t` is registered, others are not); unknown
    ones are harmless unless listed in `crit`, which is still checked. joserfc warns on every use of
    the deprecated `EdDSA` name; an issuer choosing it is not our bug, so the warning is not raised.
    """

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(algorithms=sorted(allowed & ASYMMETRIC), strict_check_header=False)

    def get_alg(self, name: str) -> JWSAlgModel:
        if not self.allowed or name not in self.allowed:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]
