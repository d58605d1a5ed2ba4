"""Query limits: depth and alias count as a validation rule, token count at parse time."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def complexity_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class ComplexityRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            aliases = [0]
            depth = self._depth(node.selection_set, 0, aliases, set())
            if depth > max_depth:
                self._too_complex(node, f"query depth {depth} exceeds the limit of {max_depth}")
            if aliases[0] > max_aliases:
                self._too_complex(node, f"{aliases[0]} aliases exceed the limit of {max_aliases}")

        def _too_complex(self, node: OperationDefinitionNode, message: str) -> None:
            self.report_error(GraphQLError(message, node, extensions={"code": "QUERY_TOO_COMPLEX"}))

        def _depth(self, sel: SelectionSetNode | None, depth: int, aliases: list[int], seen: set[str]) -> int:
            if sel is None:
                return depth
            deepest = depth
            for s in sel.selections:
                if isinstance(s, FieldNode):
                    if s.name.value in INTROSPECTION_ROOTS:
                        continue
                    aliases[0] += s.alias is not None
                    deepest = max(deepest, self._depth(s.selection_set, depth + 1, aliases, seen))
                elif isinstance(s, InlineFragmentNode):
                    deepest = max(deepest, self._depth(s.selection_set, depth, aliases, seen))
                elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen:
                    fragment = self.fragments.get(s.name.value)
                    if fragment is not None:
                        inner = self._depth(fragment.selection_set, depth, aliases, seen | {s.name.value})
                        deepest = max(deepest, inner)
            return deepest

    return ComplexityRule
