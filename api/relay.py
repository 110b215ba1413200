"""Relay plumbing shared by every feature: nodes, global ids, keyset connections.

- Every record type subclasses ``RecordNode`` (a Relay ``Node`` with an
  integer ``NodeID``); ``node``/``nodes`` resolve through the per-request
  DataLoaders.
- ``Connection[T]`` has ``edges``, ``nodes``, ``pageInfo`` and a lazily
  counted ``totalCount``. Cursors are opaque: base64 of the sort key.
- ``first``/``last`` default to 50 and may not exceed 500: a larger value is
  refused with an error, never silently truncated.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Awaitable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import (
    Annotated,
    Any,
    ClassVar,
    ForwardRef,
    Generic,
    Optional,
    Self,
    TypeVar,
    get_args,
    get_origin,
)

import strawberry
from graphql import GraphQLError
from sqlalchemy import Enum as SAEnum
from sqlalchemy import Select
from sqlalchemy.types import TypeDecorator
from strawberry import relay
from strawberry.types.nodes import SelectedField
from strawberry.utils.str_converters import to_camel_case

from api.context import Info
from api.errors import NODE_OF_MODEL, each_item
from api.input_limits import NAME_LENGTH, string_refusal
from domain.enums import ErrorCode
from domain.errors import Refused
from domain.services.paging import PageWindow, count, fetch_page
from domain.sqltypes import Money

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_CURSOR_DECIMAL = Decimal(10) ** 15

N = TypeVar("N")
F = TypeVar("F", bound=Enum)


class RecordNode(relay.Node):
    """A record exposed as a Relay node, built from its database row."""

    id: relay.NodeID[int]
    model: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            NODE_OF_MODEL[cls.model.__name__] = cls

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Copy the row's values into the GraphQL object (plain fields only).

        A loaded ORM object's values are read from its ``__dict__`` (what the
        instrumented attribute would return, at a fifth of the cost: 2 against
        10 µs a lead, measured); anything else there (a property, an unloaded
        column, a row without ``__dict__``) through ``getattr``."""
        names = _init_fields(cls)
        loaded = getattr(row, "__dict__", None)
        if loaded is None:
            node = cls(**{name: getattr(row, name) for name in names})
        else:
            node = cls(
                **{
                    name: loaded[name] if name in loaded else getattr(row, name)
                    for name in names
                }
            )
        # The NodeID lives on this undecorated base, so it is not an init field.
        node.id = row.id
        return node

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Any, required: bool = False
    ) -> list[Self | None]:
        """Load nodes by id through the request's DataLoader."""
        ids = [int(i) for i in node_ids]
        rows = await info.context.records(cls.model).load_many(ids)
        return [cls.from_row(r) if r is not None else None for r in rows]


@cache
def _init_fields(node_cls: type) -> tuple[str, ...]:
    """The names a node class is built from, found once per class (looking them
    up per row was a twentieth of a 100-row page's CPU, measured)."""
    return tuple(f.name for f in dataclasses.fields(node_cls) if f.init)  # type: ignore[arg-type]


async def load_node(info: Info, node_cls: type[N], record_id: int | None) -> N | None:
    """A related record (or None) through the request's DataLoader."""
    if record_id is None:
        return None
    row = await info.context.records(node_cls.model).load(record_id)  # type: ignore[attr-defined]
    return node_cls.from_row(row) if row is not None else None  # type: ignore[attr-defined]


def related_node(
    info: Info, node_cls: type[N], record_id: int | None
) -> N | Awaitable[N | None] | None:
    """``load_node`` without the await when the record is already loaded.

    graphql-core completes an awaitable field through a task of its own; a
    page of 100 leads with owner and account made 200 of them, a quarter of
    the page's CPU (measured). A value is answered at once when the request's
    DataLoader holds it (a list page prefetches its rows' relations, see
    ``prefetch_to_one``); otherwise the awaitable, which the DataLoader
    batches with its siblings as before."""
    if record_id is None:
        return None
    loaded = info.context.records(node_cls.model).cache_map.get(record_id)  # type: ignore[attr-defined]
    if loaded is None or not loaded.done() or loaded.cancelled() or loaded.exception():
        return load_node(info, node_cls, record_id)
    row = loaded.result()
    return node_cls.from_row(row) if row is not None else None  # type: ignore[attr-defined]


# A to-one relation field's metadata key: (the attribute holding the related
# id, the target).
FOREIGN_KEY = "salesops.foreign_key"


def to_one(target: Any, foreign_key: str, *, description: str) -> Any:
    """A field answering the record whose id is in ``foreign_key`` (or null).

    ``target`` is the node class, or a lazy reference to it
    (``Annotated["ContactNode", strawberry.lazy("api.contacts")]``) where
    importing it would be circular. The field resolves through the request's
    DataLoader (``related_node``); list pages prefetch it for their rows when
    it is selected (``prefetch_to_one``)."""

    def resolve(root: Any, info: Info) -> Any:
        return related_node(info, node_class(target), getattr(root, foreign_key))

    return strawberry.field(
        resolver=resolve,
        description=description,
        graphql_type=Optional[target],  # noqa: UP045 (a lazy reference has no |)
        metadata={FOREIGN_KEY: (foreign_key, target)},
    )


@cache
def node_class(target: Any) -> type:
    """The class a ``to_one`` target names (a lazy reference resolved once)."""
    if get_origin(target) is not Annotated:
        return target  # type: ignore[no-any-return]
    name, reference = get_args(target)[:2]
    if not isinstance(name, ForwardRef):
        name = ForwardRef(name)
    return reference.resolve_forward_ref(name).resolve_type()  # type: ignore[no-any-return]


@cache
def _to_one_fields(node_cls: type) -> dict[str, tuple[str, Any]]:
    """A node class's to-one fields: GraphQL name -> (foreign key, target)."""
    return {
        (f.graphql_name or to_camel_case(f.python_name)): f.metadata[FOREIGN_KEY]
        for f in node_cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if FOREIGN_KEY in (f.metadata or {})
    }


def _selected_node_fields(info: Info) -> set[str]:
    """The fields a connection's selection asks of its nodes (through
    ``nodes`` or ``edges { node }``, fragments included)."""
    names: set[str] = set()

    def collect(selections: list[Any], path: tuple[str, ...]) -> None:
        for selection in selections:
            if not isinstance(selection, SelectedField):
                collect(selection.selections, path)
            elif not path:
                names.add(selection.name)
            elif selection.name == path[0]:
                collect(selection.selections, path[1:])

    for field in info.selected_fields:
        collect(field.selections, ("nodes",))
        collect(field.selections, ("edges", "node"))
    return names


async def prefetch_to_one(info: Info, node_cls: type, rows: list[Any]) -> None:
    """Load, one statement per record type, the related records a page's
    selection asks for, so its ``to_one`` fields answer without awaiting
    (the statements the DataLoader would have made, made first)."""
    relations = _to_one_fields(node_cls)
    if not relations or not rows:
        return
    wanted: dict[type, set[int]] = {}
    for name in _selected_node_fields(info) & relations.keys():
        foreign_key, target = relations[name]
        ids = wanted.setdefault(node_class(target).model, set())  # type: ignore[attr-defined]
        ids.update(v for row in rows if (v := getattr(row, foreign_key)) is not None)
    for model, ids in wanted.items():
        if ids:
            await info.context.records(model).load_many(sorted(ids))


# Record ids are INTEGER columns: a larger number is no record's id, and a
# database would refuse to compare with it.
MAX_RECORD_ID = 2**31 - 1


def parse_global_id(value: str, field: str) -> tuple[str, int]:
    """(type name, database id) inside a global id, or INVALID_INPUT on ``field``."""
    try:
        gid = relay.GlobalID.from_id(value)
        record_id = int(gid.node_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Refused.one(
            ErrorCode.INVALID_INPUT, f"{value!r} is not a global id.", field
        ) from exc
    if not 1 <= record_id <= MAX_RECORD_ID:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"{value!r} holds {record_id}, which is no record's id.",
            field,
        )
    return gid.type_name, record_id


def decode_id(value: strawberry.ID | str, node_cls: type, field: str) -> int:
    """The database id inside a global id, refusing ids of another type."""
    type_name = node_cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    found, record_id = parse_global_id(value, field)
    if found != type_name:
        raise Refused.one(
            ErrorCode.INVALID_INPUT, f"{value!r} is not the id of a {type_name}.", field
        )
    return record_id


def decode_ids(values: list[strawberry.ID], node_cls: type, *path: str) -> list[int]:
    """The database ids inside a list input of global ids; every malformed one
    is refused at once, under ``path.<index>``."""
    return each_item(values, lambda value: decode_id(value, node_cls, ""), *path)


def _record_node_class(info: Info, type_name: str, value: str, field: str) -> Any:
    definition = info.schema.get_type_by_name(type_name)
    origin = getattr(definition, "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, RecordNode)):
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"{value!r} is not the id of a record ({type_name!r} is no record type).",
            field,
        )
    return origin


async def resolve_node(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The ID of the object.")
    ],
) -> relay.Node | None:
    """``node(id:)``: the record, None when it does not exist; a malformed id,
    or the id of something that is not a record, is INVALID_INPUT."""
    type_name, record_id = parse_global_id(id, "id")
    node_cls = _record_node_class(info, type_name, id, "id")
    return (await node_cls.resolve_nodes(info=info, node_ids=[record_id]))[0]


async def resolve_nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID], strawberry.argument(description="The IDs of the objects.")
    ],
) -> list[relay.Node | None]:
    """``nodes(ids:)``: at most a page (500) of records, in the order asked."""
    if len(ids) > MAX_PAGE_SIZE:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"Ask for at most {MAX_PAGE_SIZE} ids at once ({len(ids)} given).",
            "ids",
        )

    def node_key(value: strawberry.ID) -> tuple[Any, int]:
        type_name, record_id = parse_global_id(value, "")
        return _record_node_class(info, type_name, value, ""), record_id

    wanted = each_item(ids, node_key, "ids")
    by_type: dict[Any, list[int]] = {}
    for node_cls, record_id in wanted:
        by_type.setdefault(node_cls, []).append(record_id)
    found = {
        (node_cls, record_id): node
        for node_cls, record_ids in by_type.items()
        for record_id, node in zip(
            record_ids,
            await node_cls.resolve_nodes(info=info, node_ids=record_ids),
            strict=True,
        )
    }
    return [found[key] for key in wanted]


def encode_id(node_cls: type, record_id: int) -> str:
    """The global id of a record."""
    type_name = node_cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    return global_id(type_name, record_id)


def global_id(type_name: str, record_id: int) -> str:
    """The global id of the record ``record_id`` of the GraphQL type ``type_name``."""
    return str(relay.GlobalID(type_name, str(record_id)))


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    """Ascending or descending."""

    ASC = strawberry.enum_value("ASC", description="Smallest first.")
    DESC = strawberry.enum_value("DESC", description="Largest first.")


# --- cursors --------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
    return value


def encode_cursor(order_key: str, value: Any, record_id: int) -> str:
    """An opaque cursor: the sort key of one row."""
    raw = json.dumps([order_key, _encode_value(value), record_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _cursor_type(column: Any) -> type | None:
    """The Python type of a sort value as cursors carry it (None: unchecked)."""
    kind = column.type
    if isinstance(kind, Money):
        return Decimal
    if isinstance(kind, SAEnum):
        return str
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    try:
        found = kind.python_type
    except NotImplementedError:
        return None
    return None if found is object else found


def _valid_sort_value(value: Any, expected: type | None) -> bool:
    """A decoded sort value the database can compare with its column."""
    if value is None:
        return True  # rows with no value sort first or last; their cursors hold None
    if expected is not None and not isinstance(value, expected):
        return False
    if isinstance(value, bool):
        return expected is bool
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, Decimal):
        return value.is_finite() and abs(value) < MAX_CURSOR_DECIMAL
    if isinstance(value, str):
        return string_refusal(value, ("after",), NAME_LENGTH) is None
    return isinstance(value, date)


def decode_cursor(
    cursor: str, order_key: str, argument: str, column: Any = None
) -> tuple[Any, int]:
    """The sort key inside a cursor made for the same ordering; a cursor that
    was not made here (its key, id or value of the wrong kind) is refused."""
    try:
        key, value, record_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = _decode_value(value)
        expected = _cursor_type(column) if column is not None else None
        if (
            key != order_key
            or type(record_id) is not int
            or not 1 <= record_id <= MAX_RECORD_ID
            or not _valid_sort_value(value, expected)
        ):
            raise ValueError(key)
        return value, record_id
    except (
        ValueError,
        TypeError,
        binascii.Error,
        json.JSONDecodeError,
        RecursionError,
        ArithmeticError,
    ) as exc:
        raise GraphQLError(
            f"`{argument}` is not a cursor of this list in this order.",
            extensions={"code": ErrorCode.INVALID_INPUT.value, "field": [argument]},
        ) from exc


def page_window(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order_key: str,
    column: Any = None,
) -> PageWindow:
    """Validate Relay arguments into a window (errors name the argument)."""
    if first is not None and last is not None:
        raise GraphQLError(
            "Pass `first` or `last`, not both.",
            extensions={
                "code": ErrorCode.INVALID_INPUT.value,
                "field": ["first", "last"],
            },
        )
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(
                f"`{name}` must be between 0 and {MAX_PAGE_SIZE} (got {value}).",
                extensions={"code": ErrorCode.INVALID_INPUT.value, "field": [name]},
            )
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    return PageWindow(
        first=first,
        after=decode_cursor(after, order_key, "after", column) if after else None,
        last=last,
        before=decode_cursor(before, order_key, "before", column) if before else None,
    )


# --- connections ----------------------------------------------------------------


@strawberry.type(description="An edge in a connection: a node and its cursor.")
class Edge(Generic[N]):
    """An edge of a connection."""

    cursor: str = strawberry.field(description="Opaque cursor of this node.")
    node: N = strawberry.field(description="The record at the end of the edge.")


@strawberry.type(description="A page of records (Relay connection, keyset paged).")
class Connection(Generic[N]):
    """A page of a list with its cursors."""

    edges: list[Edge[N]] = strawberry.field(description="The records with cursors.")
    nodes: list[N] = strawberry.field(description="The records of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Paging information.")
    _count_statement: strawberry.Private[Select[Any]]

    @strawberry.field(description="How many records match the filter (all pages).")
    async def total_count(self, info: Info) -> int:
        """Counted only when asked for."""
        return await info.context.read(lambda s: count(s, self._count_statement))


@strawberry.input(description="Sort order of a list: a field and a direction.")
class Order(Generic[F]):
    """Field and direction: each record's ``…Order`` input subclasses
    ``Order[…OrderField]`` (a concrete, named input in the schema)."""

    field: F = strawberry.field(description="Sort by this field.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction."
    )


@dataclasses.dataclass(frozen=True)
class Ordering:
    """How a list is sorted: the column, its stable name, the direction."""

    key: str
    column: Any
    id_column: Any
    descending: bool


def creation_order(model: Any) -> Ordering:
    """By id, ascending: the default order of every list."""
    return Ordering(key="ID:ASC", column=model.id, id_column=model.id, descending=False)


def ordering(columns: Mapping[F, Any], order: Order[F] | None) -> Ordering:
    """Resolve an ``orderBy`` input (field enum + direction) to columns.

    ``columns`` maps each sort field to its column; its first entry is the
    record's id, the default sort and the tie-breaker of every other one.
    """
    default, id_column = next(iter(columns.items()))
    field = order.field if order is not None else default
    direction = order.direction if order is not None else OrderDirection.ASC
    return Ordering(
        key=f"{field.name}:{direction.name}",
        column=columns[field],
        id_column=id_column,
        descending=direction == OrderDirection.DESC,
    )


async def connection(
    info: Info,
    node_cls: type[N],
    statement: Select[Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: Ordering | None = None,
) -> Connection[N]:
    """One keyset page of ``statement`` as a connection of ``node_cls``.

    The body of every list field: its Relay arguments, passed on in the order
    it declares them, and for a root list ``order=ordering(…_ORDER, order_by)``
    (a relation list is in creation order).
    """
    order = order or creation_order(node_cls.model)  # type: ignore[attr-defined]
    window = page_window(first, after, last, before, order.key, order.column)
    page = await info.context.read(
        lambda s: fetch_page(
            s,
            statement,
            sort=order.column,
            id_col=order.id_column,
            descending=order.descending,
            window=window,
        )
    )
    await prefetch_to_one(info, node_cls, page.rows)
    sort_attr = order.column.key
    nodes = [node_cls.from_row(row) for row in page.rows]  # type: ignore[attr-defined]
    edges = [
        Edge(
            cursor=encode_cursor(order.key, getattr(row, sort_attr), row.id), node=node
        )
        for row, node in zip(page.rows, nodes, strict=True)
    ]
    return Connection(
        edges=edges,
        nodes=nodes,
        page_info=relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count_statement=statement,
    )
