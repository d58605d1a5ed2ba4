"""The per-request set of DataLoaders: built once per request, inside its running loop, never shared."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.cpl import CplEntriesByModelLoader, CplEntryByIdentityLoader, CplEntryByNumberLoader
from loaders.db import Db
from loaders.devices import IdentityRowsLoader
from loaders.manufacturers import ContactsByManufacturerLoader, ManufacturerByIdLoader
from loaders.models import ModelByKeyLoader, ModelsByManufacturerLoader
from loaders.releases import ReleaseByIdLoader, ReleasesByIdentityLoader, ReleasesByModelHwLoader


@dataclass
class Loaders:
    db: Db
    manufacturer_by_id: ManufacturerByIdLoader
    contacts_by_manufacturer: ContactsByManufacturerLoader
    model_by_key: ModelByKeyLoader
    models_by_manufacturer: ModelsByManufacturerLoader
    cpl_entry_by_number: CplEntryByNumberLoader
    cpl_entry_by_identity: CplEntryByIdentityLoader
    cpl_entries_by_model: CplEntriesByModelLoader
    identity_rows: IdentityRowsLoader
    release_by_id: ReleaseByIdLoader
    releases_by_model_hw: ReleasesByModelHwLoader
    releases_by_identity: ReleasesByIdentityLoader

    def clear_all(self) -> None:
        """After a write in this request: later reads must see it."""
        for loader in self.__dict__.values():
            if hasattr(loader, "clear_all"):
                loader.clear_all()


def build_loaders(db: Db) -> Loaders:
    return Loaders(
        db=db,
        manufacturer_by_id=ManufacturerByIdLoader(db),
        contacts_by_manufacturer=ContactsByManufacturerLoader(db),
        model_by_key=ModelByKeyLoader(db),
        models_by_manufacturer=ModelsByManufacturerLoader(db),
        cpl_entry_by_number=CplEntryByNumberLoader(db),
        cpl_entry_by_identity=CplEntryByIdentityLoader(db),
        cpl_entries_by_model=CplEntriesByModelLoader(db),
        identity_rows=IdentityRowsLoader(db),
        release_by_id=ReleaseByIdLoader(db),
        releases_by_model_hw=ReleasesByModelHwLoader(db),
        releases_by_identity=ReleasesByIdentityLoader(db),
    )
