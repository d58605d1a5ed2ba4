"""Only queries may read from a replica: a mutation or subscription reads, and writes, on the primary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


class PrimaryUnlessQuery(SchemaExtension):
    """Decided once the operation is known and before any resolver runs, so a mutation never validates
    against a replica's older rows, and its answer (read after commit) sees what it wrote."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        try:
            kind = execution.operation_type if execution.graphql_document is not None else None
        except RuntimeError:  # no such operation: strawberry refuses it without running anything
            kind = None
        route(kind, execution.context)
        yield


def route(kind: OperationType | None, context: Any) -> None:
    """Anything but a query (an unknown operation too) reads, and writes, on the primary."""
    db = getattr(getattr(context, "loaders", None), "db", None)
    if kind is not OperationType.QUERY and db is not None:
        db.use_primary()
