"""strawberry's per-call resolver wrapper, specialised once per field: the same Info, conversion, extensions and call."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, reduce
from typing import Any

from graphql import GraphQLField
from strawberry.extensions.field_extension import FieldExtension, build_field_extension_resolvers
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

from schema.compiled.arguments import Conversion

# (source, graphql-core's resolve info, graphql-core's coerced arguments) -> what strawberry's wrapper returns
Call = Callable[[Any, Any, dict[str, Any]], Any]

WRAPPERS = frozenset(
    {
        "GraphQLCoreConverter.from_resolver.<locals>._resolver",
        "GraphQLCoreConverter.from_resolver.<locals>._async_resolver",
    }
)


def wrapped(field_def: GraphQLField) -> tuple[StrawberryField, Any] | None:
    """The strawberry field and converter behind strawberry's own wrapper, read from its closure; None for
    any other resolver, and for fields with exception handlers (their wrapper does more)."""
    resolve = field_def.resolve
    if (
        getattr(resolve, "__module__", None) != "strawberry.schema.schema_converter"
        or getattr(resolve, "__qualname__", None) not in WRAPPERS
    ):
        return None
    found = _cells(resolve)
    if found.get("field_exception_handlers") != ():
        return None
    made_info = _cells(found.get("_strawberry_info_from_graphql"))  # it holds the field and the converter
    field, converter = made_info.get("field"), made_info.get("self")
    if field is not field_def.extensions.get("strawberry-definition") or converter is None:
        return None
    return (field, converter) if isinstance(field, StrawberryField) else None


def _cells(function: Any) -> dict[str, Any]:
    code, cells = getattr(function, "__code__", None), getattr(function, "__closure__", None) or ()
    names = code.co_freevars if code is not None else ()
    return {name: cell.cell_contents for name, cell in zip(names, cells, strict=True)}


def strawberry_call(
    field_def: GraphQLField, constants: dict[str, Any], schema: Any
) -> tuple[Call, bool] | None:
    """What GraphQLCoreConverter.from_resolver's wrapper does per call, its lookups done here once; and
    whether it reads graphql-core's coerced arguments (not when all of them were converted once)."""
    found = wrapped(field_def)
    if found is None:
        return None
    field, converter = found
    info_class = converter.config.info_class
    arguments = Conversion(field.arguments, schema, constants)
    # get_arguments' own steps after conversion: extensions may reshape, then self/parent/root/info
    mappers = [
        e.map_arguments for e in field.extensions if type(e).map_arguments is not FieldExtension.map_arguments
    ]
    resolver = field.base_resolver
    as_self = resolver is not None and resolver.self_parameter is not None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p] if resolver else []
    info_name = resolver.info_parameter.name if resolver and resolver.info_parameter else None
    get_result = _result_of(field)
    chain = build_field_extension_resolvers(field)

    def kwargs_of(values: dict[str, Any], source: Any, info: Any) -> dict[str, Any]:
        kwargs = arguments(values, info)
        for mapper in mappers:
            kwargs = mapper(kwargs)
        for name in sources:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info
        return kwargs

    function = _function_of(field)
    if not chain and function is not None:
        # the commonest case by far: a plain resolver function, called as StrawberryResolver would

        def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
            info = info_class(_raw_info=raw_info, _field=field)
            kwargs = kwargs_of(values, source, info)
            return function(source, **kwargs) if as_self else function(**kwargs)

    elif not chain:

        def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
            info = info_class(_raw_info=raw_info, _field=field)
            return get_result(source, info, [source] if as_self else [], kwargs_of(values, source, info))

    else:
        # one extension (a field's guard, the usual case): reduce would wrap `last` in one partial
        # per call, and calling the extension with it is the same call
        only = chain[0] if len(chain) == 1 else None

        def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
            info = info_class(_raw_info=raw_info, _field=field)
            kwargs = kwargs_of(values, source, info)
            args = [source] if as_self else []
            # strawberry takes info out of the arguments the extensions see, and puts it back after
            requested = "info" in kwargs
            if requested:
                kwargs.pop("info")

            def last(_source: Any, info: Any, **kwargs: Any) -> Any:
                if requested:
                    kwargs["info"] = info
                return get_result(_source, info, args, kwargs)

            if only is not None:
                return only(last, source, info, **kwargs)
            return reduce(lambda chained, next_: partial(next_, chained), chain, last)(source, info, **kwargs)

    reads = bool(arguments.plan)
    if not field.is_async:
        return call, reads

    def call_async(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
        # strawberry's async wrapper raises nothing until awaited: a conversion error is reported then too
        try:
            return call(source, raw_info, values)
        except Exception as error:
            return _raising(error)

    return call_async, reads


def _function_of(field: StrawberryField) -> Callable[..., Any] | None:
    """The resolver's own function, when StrawberryField.get_result and StrawberryResolver.__call__ only call it."""
    resolver = field.base_resolver
    if resolver is None or type(field).get_result is not StrawberryField.get_result:
        return None
    function = resolver.wrapped_func
    if type(resolver).__call__ is not StrawberryResolver.__call__ or not callable(function):
        return None
    return function


def _result_of(field: StrawberryField) -> Callable[[Any, Any, list[Any], dict[str, Any]], Any]:
    """StrawberryField.get_result, with its resolver's function called directly when nothing overrides it."""
    resolver = field.base_resolver
    if type(field).get_result is not StrawberryField.get_result:
        return lambda source, info, args, kwargs: field.get_result(
            source, info=info, args=args, kwargs=kwargs
        )
    if resolver is None:
        default, name = field.default_resolver, field.python_name
        return lambda source, info, args, kwargs: default(source, name)
    function = resolver.wrapped_func
    if type(resolver).__call__ is not StrawberryResolver.__call__ or not callable(function):
        return lambda source, info, args, kwargs: resolver(*args, **kwargs)
    return lambda source, info, args, kwargs: function(*args, **kwargs)


async def _raising(error: Exception) -> Any:
    raise error
