"""Relay connection types shared by every paged list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.federation.schema_directives import ListSize

from resolvers.pagination import DEFAULT_PAGE_SIZE, Page

Node = TypeVar("Node")
Row = TypeVar("Row")

# On every field answering a Connection: `first` sizes its edges and nodes (absent: the default page).
PAGED = ListSize(
    slicing_arguments=["first"],
    sized_fields=["edges", "nodes"],
    assumed_size=DEFAULT_PAGE_SIZE,
    require_one_slicing_argument=False,
)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [e.node for e in self.edges]


def connection(page: Page[Row], node: Callable[[Row], Node]) -> Connection[Node]:
    return Connection(
        edges=[Edge(cursor=c, node=node(r)) for c, r in page.items],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
    )
