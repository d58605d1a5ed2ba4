"""The one constructor every batch loader shares: a DataLoader over the request's `Db`."""

from __future__ import annotations

from typing import TypeVar

from aiodataloader import DataLoader

from loaders.db import Db

K = TypeVar("K")
V = TypeVar("V")


class DbLoader(DataLoader[K, V]):
    """Built per request (aiodataloader binds the running loop); subclasses write `batch_load_fn`."""

    def __init__(self, db: Db) -> None:
        super().__init__()
        self.db = db
