"""Input caps: list and string sizes, NUL characters and `_entities` batches, refused before coercion."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_operation_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from resolvers.context import Context, InputCaps
from resolvers.errors import BadUserInput
from schema.remembered import Remembered
from schema.selections import fields_of
from schema.sifted import current

# PostgreSQL text cannot hold U+0000, and no field of this graph has a use for it.
NUL = "\x00"


def string_problem(value: str, max_length: int) -> str | None:
    if NUL in value:
        return "contains a NUL character, which no text field can hold"
    if len(value) > max_length:
        return f"is {len(value)} characters long; the limit is {max_length}"
    return None


class ArgumentPath:
    """For a visitor: `path`, the argument and input-object field names above the node visited, which
    an error about a literal names (`identity.modelId`). Mixed in before the Visitor class."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.path: list[str] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, *_: Any) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, *_: Any) -> None:
        self.path.pop()


def literal_strings_rule(max_length: int) -> type[ValidationRule]:
    """String literals in the document: no NUL, bounded length; the error names the argument path."""

    class LiteralStringsRule(ArgumentPath, ValidationRule):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            problem = string_problem(node.value, max_length)
            if problem is not None:
                field = ".".join(self.path) or "value"
                extensions = {"code": "BAD_USER_INPUT", "field": field}
                self.report_error(GraphQLError(f"{field} {problem}", node, extensions=extensions))

    return LiteralStringsRule


def _lists_within(variables: dict[str, Any], limit: int, lists: int) -> bool:
    """Breadth first, stopping once `lists` lists were seen (an upper bound: every list wrote a '[').

    A 100,000-device fleet has one list, found at once: its 600,000 values are never visited here.
    """
    queue: deque[Any] = deque([variables])
    seen = 0
    while queue and seen < lists:
        item = queue.popleft()
        if type(item) is list:
            seen += 1
            if len(item) > limit:
                return False
            queue.extend(item)
        elif type(item) is dict:
            queue.extend(item.values())
    return True


class Screen:
    """The fast pass, on the variables as JSON bytes (C speed): almost every request is within its caps.

    Each test is sound and may only over-report (a '[' or a long run inside a string, a literal
    backslash-u0000); whatever it reports is confirmed, with a path, by the exact walk.
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        # a run of more than max_length bytes after a quote: UTF-8 and escapes only lengthen a string
        self.long_string = re.compile(rb'"[^"]{%d}' % (max_length + 1))

    def within(self, variables: dict[str, Any], caps: InputCaps) -> bool:
        try:
            dumped = orjson.dumps(variables)
        except TypeError:  # integers past 64 bits: only the exact walk can tell
            return False
        # one memchr (a fleet has no escapes at all); an escaped quote could split a long string in two
        escaped = b"\\" in dumped
        if escaped and b"\\u0000" in dumped:
            return False
        if len(dumped) > self.max_length and (escaped or self.long_string.search(dumped)):
            return False
        return _lists_within(variables, caps.list_items, dumped.count(b"["))


def _problems(name: str, value: Any, caps: InputCaps, max_length: int) -> Iterator[BadUserInput]:
    """The slow pass, with paths, run only when the fast one found something."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = string_problem(item, max_length)
            if problem is not None:
                yield BadUserInput(f"variable {path} {problem}", field=path)
        elif isinstance(item, list):
            if len(item) > caps.list_items:
                message = (
                    f"variable {path} holds {len(item)} items; the limit for this caller is {caps.list_items}"
                )
                yield BadUserInput(message, field=path, limit=caps.list_items)
                continue
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, dict):
            for key in item:
                if string_problem(key, max_length) is not None:
                    yield BadUserInput(f"variable {path} has a field name that is not a name", field=path)
            stack.extend((f"{path}.{k[:max_length].replace(NUL, '')}", v) for k, v in reversed(item.items()))


def variable_problem(variables: dict[str, Any], caps: InputCaps, screen: Screen) -> BadUserInput | None:
    """The first variable value over a cap (list length, string length) or holding a NUL, if any:
    what schema.sifted found on a thread for these variables, else `first_problem` here."""
    if not variables:
        return None
    sifted = current(variables)
    if sifted is not None and sifted.caps == caps:
        return sifted.problem
    return first_problem(variables, caps, screen)


def first_problem(variables: dict[str, Any], caps: InputCaps, screen: Screen) -> BadUserInput | None:
    """The screen, and when it reports something the exact walk, which confirms it (with a path) or not."""
    if screen.within(variables, caps):
        return None
    for name, value in variables.items():
        for problem in _problems(name, value, caps, screen.max_length):
            return problem
    return None


@dataclass(frozen=True)
class Representations:
    """One `_entities` field's `representations` argument: a literal list of `items`, or `variable`,
    whose default list (`items` when the request leaves it out) runs in its place."""

    items: int
    variable: str | None = None

    def count(self, variables: dict[str, Any]) -> int:
        if self.variable is None or self.variable not in variables:
            return self.items
        given = variables[self.variable]
        return len(given) if isinstance(given, list) else 1


def representations_of(document: DocumentNode, operation_name: str | None) -> tuple[Representations, ...]:
    """The operation's `_entities` arguments, remembered per parsed document and operation name.

    Root fields reached through fragments count as well: `{ ...F }` with `fragment F on Query {
    _entities(...) }` runs the same batch; so does a variable's default list when the request leaves
    the variable out. The entities resolver counts the coerced lists again (FirSchema.entities_resolver).
    """
    return _REPRESENTATIONS.get(document, operation_name, _representations, document, operation_name)


def _representations(document: DocumentNode, operation_name: str | None) -> tuple[Representations, ...]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return ()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    defaults = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
    }
    found: list[Representations] = []
    for field in fields_of(operation.selection_set, fragments, set()):
        if field.name.value != "_entities":
            continue
        for argument in field.arguments or ():
            value = argument.value
            if argument.name.value != "representations":
                continue
            if isinstance(value, ListValueNode):
                found.append(Representations(len(value.values)))
            elif isinstance(value, VariableNode):
                default = defaults.get(value.name.value)
                items = len(default.values) if isinstance(default, ListValueNode) else 1
                found.append(Representations(items, value.name.value))
            else:
                found.append(Representations(1))
    return tuple(found)


def entities_requested(document: DocumentNode, operation_name: str | None, variables: dict[str, Any]) -> int:
    """How many representations the operation's `_entities` fields ask for, counted before coercion."""
    return sum(r.count(variables) for r in representations_of(document, operation_name))


def input_limits(max_string_length: int) -> type[InputLimitsBase]:
    class InputLimits(InputLimitsBase):
        """Runs after validation and before graphql-core coerces a single variable value."""

        screen = Screen(max_string_length)

    return InputLimits


class InputLimitsBase(SchemaExtension):
    """The hook; `check` is the rule, which the known operation's lane (schema.lane) asks too."""

    screen: ClassVar[Screen]

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.graphql_document is not None:
            check(
                self.screen,
                execution.context,
                execution.graphql_document,
                execution.operation_name,
                execution.variables,
            )
        yield


def check(
    screen: Screen,
    context: Any,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> None:
    """BAD_USER_INPUT (raised) for a variable over its cap or too many `_entities` representations."""
    if not isinstance(context, Context):
        return
    caps = context.limits.caps.of(context.principal)
    variables = variables or {}
    problem = variable_problem(variables, caps, screen)
    if problem is not None:
        raise problem
    written = longest_list(document)
    if written.items > caps.list_items:
        message = (
            f"{written.field} lists {written.items} items; the limit for this caller is {caps.list_items}"
        )
        raise BadUserInput(message, field=written.field, limit=caps.list_items)
    requested = entities_requested(document, operation_name, variables)
    if requested > caps.entities:
        raise too_many_entities(requested, caps.entities)


def too_many_entities(requested: int, cap: int) -> BadUserInput:
    message = f"_entities asks for {requested} representations; the limit for this caller is {cap}"
    return BadUserInput(message, field="representations", limit=cap)


@dataclass(frozen=True)
class LongestList:
    """The longest list written in a document (arguments and variable defaults), and where."""

    items: int = 0
    field: str = "value"


class _LongestListVisitor(ArgumentPath, Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.longest = LongestList()

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        self.path.append(node.variable.name.value)  # a default's lists are named by their variable

    def leave_variable_definition(self, *_: Any) -> None:
        self.path.pop()

    def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
        if len(node.values) > self.longest.items:
            self.longest = LongestList(len(node.values), ".".join(self.path) or "value")


def longest_list(document: DocumentNode) -> LongestList:
    """Remembered per parsed document (schema.parsing hands the same object back for the same text)."""
    return _LONGEST.get(document, None, _longest, document)


def _longest(document: DocumentNode) -> LongestList:
    visitor = _LongestListVisitor()
    visit(document, visitor)
    return visitor.longest


_LONGEST: Remembered[LongestList] = Remembered()
_REPRESENTATIONS: Remembered[tuple[Representations, ...]] = Remembered()
