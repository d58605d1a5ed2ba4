"""What graphql-core's Executor.build derives from the document alone, derived once per document and operation name."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues

from schema.fleet_input import fleet_names
from schema.variable_coercion import Declined, VariableCoercer, compile_variables

# Documents kept prepared, least recently used dropped first (each entry holds its document alive, so
# that its id is not reused by another while the entry lasts).
PREPARED = 1024


@dataclass(frozen=True, slots=True)
class Prepared:
    """One operation of one document, as Executor.build would select it, with its fragments (shared by
    the requests: graphql-core only reads them) and the coercer of its variables."""

    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    fleet: tuple[str, ...]  # its [FleetDeviceInput!]! variables (schema.fleet_input)
    coerce: VariableCoercer

    def variables(self, inputs: dict[str, Any], hide_suggestions: bool) -> VariableValues | None:
        """graphql-core's coerced variables for valid input; None for graphql-core to coerce (and report)."""
        try:
            return self.coerce(inputs, hide_suggestions)
        except (Declined, RecursionError):  # graphql-core reports a RecursionError in its own words
            return None


@dataclass(frozen=True, slots=True)
class _Entry:
    schema: GraphQLSchema
    document: DocumentNode
    prepared: Prepared | None


_entries: OrderedDict[tuple[int, int, str | None], _Entry] = OrderedDict()


def prepared(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Prepared | None:
    """The document's operation prepared, or None when graphql-core's Executor.build must run: it reports
    a missing or ambiguous operation, a bad variable signature, or coerces what is not compiled."""
    if not isinstance(operation_name, str | None):  # not a key (a list), and never an operation's name
        return None
    key = (id(schema), id(document), operation_name)
    entry = _entries.get(key)
    if entry is not None and entry.schema is schema and entry.document is document:
        _entries.move_to_end(key)
        return entry.prepared
    entry = _entries[key] = _Entry(schema, document, prepare(schema, document, operation_name))
    while len(_entries) > PREPARED:
        _entries.popitem(last=False)
    return entry.prepared


def prepare(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Prepared | None:
    """graphql-core's selection of the operation and its fragments (Executor.build), for the documents it
    accepts; fragments with variables (an experimental syntax) are left to it."""
    operation: OperationDefinitionNode | None = None
    fragment_definitions: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    return None  # several operations and no name
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None
            fragment_definitions[definition.name.value] = definition
    if operation is None:
        return None
    coerce = compile_variables(schema, operation.variable_definitions or ())
    if coerce is None:
        return None
    fragments = {name: FragmentDetails(definition, None) for name, definition in fragment_definitions.items()}
    return Prepared(operation, fragment_definitions, fragments, fleet_names(operation), coerce)
