"""One level of a selection set as graphql-core executes it: fields, with fragments followed."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)


def fields_of(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[FieldNode]:
    """The field nodes of one level, inline fragments and spreads (each named fragment once) followed.

    Each named fragment is entered once per level, as graphql-core's field collection does, so a
    spread repeated or nested in itself cannot make the walk longer than the document.
    """
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from fields_of(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from fields_of(fragment.selection_set, fragments, seen)
