"""FIR_TRUSTED_DOCUMENTS_ONLY: classes of caller, a misspelling stops the start; the class of a principal."""

from __future__ import annotations

import pytest

from gateway.settings import load_settings
from gateway.trusted_documents import principal_class
from resolvers.principal import ANONYMOUS
from tests.builders import SECAS, SUPPLIER, publisher


def test_classes_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIR_TRUSTED_DOCUMENTS_ONLY", " Anonymous, read ")
    assert load_settings(None).trusted_documents_only == {"anonymous", "read"}
    monkeypatch.setenv("FIR_TRUSTED_DOCUMENTS_ONLY", "anonymous,reader")
    with pytest.raises(ValueError, match="unknown reader"):
        load_settings(None)


def test_principal_class_is_the_strongest_role() -> None:
    assert [principal_class(p) for p in (ANONYMOUS, SUPPLIER, publisher("106C"), SECAS)] == [
        "anonymous",
        "read",
        "publish",
        "admin",
    ]
