"""Fixtures of the gateway tests: a real local OIDC issuer, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.issuer import LocalIssuer, running_issuer


@pytest.fixture(scope="module")
def served() -> Iterator[LocalIssuer]:
    with running_issuer() as issuer:
        yield issuer


@pytest.fixture
def issuer(served: LocalIssuer) -> LocalIssuer:
    """The module's issuer, back to its one original key; each test's verifier starts with an empty cache."""
    served.reset(served.keys[:1])
    return served
