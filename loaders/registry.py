"""The per-request set of DataLoaders: built once per request, inside its running loop, never shared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from aiodataloader import DataLoader

from loaders.batching import DbLoader
from loaders.cpl import CplEntriesByModelLoader, CplEntryByNumberLoader, CplVersionsByModelHwLoader
from loaders.db import Db
from loaders.devices import IdentityRowsLoader
from loaders.manufacturers import ContactsByManufacturerLoader, ManufacturerByIdLoader
from loaders.models import ModelByKeyLoader, ModelsByManufacturerLoader
from loaders.releases import (
    ReleaseByIdLoader,
    ReleasesByIdentityLoader,
    ReleasesByModelHwLoader,
    RevisionsByReleaseLoader,
)
from loaders.tlog_reads import LatestCheckpointLoader, LogLeafByEntityLoader, LogNodeLoader

K = TypeVar("K")
V = TypeVar("V")
# covariant, so that `Loaders.primer` reads a loader's key and value types off its descriptor
L = TypeVar("L", bound=DbLoader[Any, Any], covariant=True)


class per_request(Generic[L]):
    """A loader made on first use and kept for the request, like `cached_property`, for any loader class."""

    def __init__(self, kind: type[L]) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type[Loaders], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, loaders: None, owner: type[Loaders]) -> per_request[L]: ...
    @overload
    def __get__(self, loaders: Loaders, owner: type[Loaders]) -> L: ...
    def __get__(self, loaders: Loaders | None, owner: type[Loaders]) -> L | per_request[L]:
        if loaders is None:
            return self
        made = self.kind(loaders.db)
        primed = loaders.primed.pop(self.name, None)
        if primed is not None:
            made.primed = primed
        vars(loaders)[self.name] = made  # the instance attribute shadows this descriptor from now on
        return made


class Loaders:
    """Each loader is made on first use: most requests touch two or three of them."""

    def __init__(self, db: Db) -> None:
        self.db = db
        # Per-request computations over loaded rows (a model's visible releases, the device batch):
        # what the loaders answered, they depend on, so they are forgotten with them.
        self.memo: dict[Any, Any] = {}
        # Values primed into loaders not made yet, by loader name: what the loader starts from if made.
        self.primed: dict[str, dict[Any, Any]] = {}

    manufacturer_by_id = per_request(ManufacturerByIdLoader)
    contacts_by_manufacturer = per_request(ContactsByManufacturerLoader)
    model_by_key = per_request(ModelByKeyLoader)
    models_by_manufacturer = per_request(ModelsByManufacturerLoader)
    cpl_entry_by_number = per_request(CplEntryByNumberLoader)
    cpl_entries_by_model = per_request(CplEntriesByModelLoader)
    cpl_versions_by_model_hw = per_request(CplVersionsByModelHwLoader)
    identity_rows = per_request(IdentityRowsLoader)
    release_by_id = per_request(ReleaseByIdLoader)
    releases_by_model_hw = per_request(ReleasesByModelHwLoader)
    releases_by_identity = per_request(ReleasesByIdentityLoader)
    revisions_by_release = per_request(RevisionsByReleaseLoader)
    log_leaf_by_entity = per_request(LogLeafByEntityLoader)
    log_node = per_request(LogNodeLoader)
    log_checkpoint = per_request(LatestCheckpointLoader)

    def primer(self, loader: per_request[DbLoader[K, V]]) -> Callable[[K, V], object]:
        """`prime` for one loader (`Loaders.model_by_key`), without making a loader only to prime it: a
        device query primes every row it read and most requests read none of them back. Call it at
        once (the loader may be made meanwhile). Values, not errors: they are rows."""
        made: DbLoader[K, V] | None = vars(self).get(loader.name)
        if made is not None:
            return made.prime
        return self.primed.setdefault(loader.name, {}).setdefault

    def clear_all(self) -> None:
        """After a write in this request (or an event on a long-lived subscription): later reads must see it."""
        self.memo.clear()
        self.primed.clear()
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()

    def fresh(self) -> Loaders:
        """New loaders over the same database: another operation's, which must not read this one's."""
        return Loaders(self.db.fresh())


def build_loaders(db: Db) -> Loaders:
    return Loaders(db)
