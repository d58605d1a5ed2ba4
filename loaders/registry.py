"""The per-request set of DataLoaders: built once per request, inside its running loop, never shared."""

from __future__ import annotations

from functools import cached_property

from aiodataloader import DataLoader

from loaders.cpl import CplEntriesByModelLoader, CplEntryByNumberLoader
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


class Loaders:
    """Each loader is made on first use: most requests touch two or three of them."""

    def __init__(self, db: Db) -> None:
        self.db = db

    @cached_property
    def manufacturer_by_id(self) -> ManufacturerByIdLoader:
        return ManufacturerByIdLoader(self.db)

    @cached_property
    def contacts_by_manufacturer(self) -> ContactsByManufacturerLoader:
        return ContactsByManufacturerLoader(self.db)

    @cached_property
    def model_by_key(self) -> ModelByKeyLoader:
        return ModelByKeyLoader(self.db)

    @cached_property
    def models_by_manufacturer(self) -> ModelsByManufacturerLoader:
        return ModelsByManufacturerLoader(self.db)

    @cached_property
    def cpl_entry_by_number(self) -> CplEntryByNumberLoader:
        return CplEntryByNumberLoader(self.db)

    @cached_property
    def cpl_entries_by_model(self) -> CplEntriesByModelLoader:
        return CplEntriesByModelLoader(self.db)

    @cached_property
    def identity_rows(self) -> IdentityRowsLoader:
        return IdentityRowsLoader(self.db)

    @cached_property
    def release_by_id(self) -> ReleaseByIdLoader:
        return ReleaseByIdLoader(self.db)

    @cached_property
    def releases_by_model_hw(self) -> ReleasesByModelHwLoader:
        return ReleasesByModelHwLoader(self.db)

    @cached_property
    def releases_by_identity(self) -> ReleasesByIdentityLoader:
        return ReleasesByIdentityLoader(self.db)

    @cached_property
    def revisions_by_release(self) -> RevisionsByReleaseLoader:
        return RevisionsByReleaseLoader(self.db)

    @cached_property
    def log_leaf_by_entity(self) -> LogLeafByEntityLoader:
        return LogLeafByEntityLoader(self.db)

    @cached_property
    def log_node(self) -> LogNodeLoader:
        return LogNodeLoader(self.db)

    @cached_property
    def log_checkpoint(self) -> LatestCheckpointLoader:
        return LatestCheckpointLoader(self.db)

    def clear_all(self) -> None:
        """After a write in this request: later reads must see it."""
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()


def build_loaders(db: Db) -> Loaders:
    return Loaders(db)
