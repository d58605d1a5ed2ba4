"""The parts of an issuer's OpenID discovery document that token validation relies on, checked."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oidc.discovery import OpenIDProviderMetadata  # type: ignore[import-untyped]

WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    jwks_uri: str
    signing_algorithms: tuple[str, ...] | None


def discovery_url(issuer: str) -> str:
    # OpenID Discovery 1.0, section 4: a terminating "/" is removed before appending the well-known path
    return issuer.rstrip("/") + WELL_KNOWN


def parse_metadata(document: object, configured_issuer: str) -> ProviderMetadata:
    """Check the document names `configured_issuer` and has an https (or loopback http) JWKS URI."""
    if not isinstance(document, dict):
        raise ValueError("discovery document is not a JSON object")
    issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
    if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
        raise ValueError("discovery document lacks issuer or jwks_uri")
    # The settings loader strips a trailing "/" from FIR_OIDC_ISSUER; Auth0's issuer ends with one.
    if issuer not in {configured_issuer, configured_issuer.rstrip("/") + "/"}:
        raise ValueError(f"discovery document names issuer {issuer!r}, expected {configured_issuer!r}")
    metadata = OpenIDProviderMetadata(document)
    metadata.validate_issuer()
    metadata.validate_jwks_uri()
    return ProviderMetadata(issuer, jwks_uri, _algorithms(document))


def _algorithms(document: dict[str, object]) -> tuple[str, ...] | None:
    values = document.get("id_token_signing_alg_values_supported")
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("id_token_signing_alg_values_supported is not a list of strings")
    return tuple(values)
