"""Substring searches over the parts of a user's scope, with their statements compiled once per scope.

An account manager's ticket and activity search runs one statement per part of the scope (service.selectors.
ticket_scope_parts, activities.selectors.activity_scope_parts): building and compiling those querysets — joins, an
EXISTS, the sensitive rule, a dozen filters — cost more Python than PostgreSQL spent running them (a third of a
global search's 13 ms of CPU). Their SQL depends only on the kind and the user's RecordScope; the terms, and a rare
term's candidate ids, are its only parameters. So each statement is compiled once per (key, shape) with placeholder
arguments, and later searches run the stored SQL with the real ones, building no queryset.

The same store serves other hot statements whose SQL a few values determine (`stored`, with `Slot` placeholders for
RawSQL arguments): the team queue's page (service.selectors.ticket_rows), keyed by the user's scope and the filters,
run with the cursor's values.

The search is PostgreSQL only: its statements are those core.textsearch runs there (the index lookup of a rare term,
then the parts by id; else the parts with the bigram and substring conditions). Other databases take textsearch's own
path.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import BooleanField, F, Func, Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ValuesIterable

from guanxi.core import textsearch

MAX_SHAPES = 1024  # stored (key, shape) entries per process — kinds × users × term counts; emptied when full


class _Term(str):
    """A placeholder term: found among the compiled parameters by identity, so a real value cannot pass for it."""

    index: int


class _Ids(list):
    """A placeholder for a rare term's candidate ids (one array parameter)."""

    index: int


class Slot:
    """A placeholder for any other argument passed to the SQL as it is (a RawSQL parameter: Django does not prepare
    it), e.g. a keyset cursor's values."""

    def __init__(self, index: int):
        self.index = index


def _placeholder(kind: type, index: int, value):
    placeholder = kind(value)
    placeholder.index = index
    return placeholder


class PkAmong(Func):
    """PostgreSQL: ``pk = ANY(%s::<type>[])``, the candidate ids as one array parameter (what `pk__in` is to the
    planner, with one placeholder whatever the number of ids)."""

    output_field = BooleanField()

    def __init__(self, ids: list[int]):
        super().__init__(F("pk"))
        self.ids = ids

    def as_sql(self, compiler, connection, **extra_context):
        pk_sql, pk_params = compiler.compile(self.source_expressions[0])
        pk_type = compiler.query.model._meta.pk.rel_db_type(connection)
        return f"{pk_sql} = ANY(%s::{pk_type}[])", (*pk_params, self.ids)


@dataclass(frozen=True)
class Statement:
    """A compiled values() / values_list(flat=True) query whose parameters include placeholders."""

    sql: str
    params: tuple
    names: tuple[str, ...] | None  # the keys of a values() row; None: flat values
    converters: tuple  # (column index, (converter, …), expression), as the compiler applies them


def compile_statement(queryset: QuerySet, placeholders: list) -> Statement | None:
    """`queryset` (built with `placeholders` for its arguments) compiled; None when it can match nothing."""
    if queryset._iterable_class is ValuesIterable:
        query = queryset.query
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    elif queryset._iterable_class is FlatValuesListIterable:
        names = None
    else:
        raise TypeError("compile_statement() takes values() or values_list(flat=True) querysets")
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    # Every placeholder must reach the parameters as itself: a value Django transformed on the way (a LIKE pattern,
    # a cast) would otherwise stay the placeholder's in every later search.
    used = {id(param) for param in params}
    terms = [placeholder for placeholder in placeholders if type(placeholder) is _Term]
    copied = [p for p in params if isinstance(p, str) and type(p) is not _Term and any(t in p for t in terms)]
    if copied or not all(id(placeholder) in used for placeholder in placeholders):
        raise ValueError(f"a placeholder did not reach the parameters unchanged: {sql}")
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = tuple((index, *pair) for index, pair in compiler.get_converters(fields).items())
    return Statement(sql=sql, params=tuple(params), names=names, converters=converters)


def run_statement(statement: Statement, alias: str, arguments: list) -> list:
    """The rows of `statement` with `arguments` in place of its placeholders (by their index)."""
    params = [arguments[p.index] if type(p) in (_Term, _Ids, Slot) else p for p in statement.params]
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        rows = cursor.fetchall()
    if statement.converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, converters, expression in statement.converters:
                for converter in converters:
                    row[index] = converter(row[index], expression, connection)
    if statement.names is None:
        return [row[0] for row in rows]
    return [dict(zip(statement.names, row, strict=True)) for row in rows]


_shapes: dict[Hashable, list[Statement | None]] = {}


def stored(key: Hashable, build: Callable[[], Statement | None]) -> Statement | None:
    """The statement stored under `key` (whatever determines its SQL), compiled by `build` the first time."""
    return _statements(key, lambda: [build()])[0]


def _statements(key: Hashable, build: Callable[[], list[Statement | None]]) -> list[Statement | None]:
    statements = _shapes.get(key)
    if statements is None:
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        statements = _shapes[key] = build()
    return statements


def scoped_matches_in_parts(
    *, key: Hashable, parts: Callable[[], list[QuerySet]], model: type[Model], column: str, terms: list[str], limit: int
) -> list:
    """textsearch.substring_matches_in_parts(parts(), column, terms, limit) for `parts` of values() querysets of
    `model` whose SQL `key` alone determines (the kind and the user's RecordScope): on PostgreSQL `parts` is only
    called the first time a key meets a shape (number of terms, limit, rare or not)."""
    alias = router.db_for_read(model)
    if connections[alias].vendor != "postgresql":
        return textsearch.substring_matches_in_parts(parts(), column, terms, limit)
    indexed = [term for term in terms if len(term) >= textsearch.MIN_TERM_LENGTH]
    if not indexed:
        return []
    frequent = textsearch.frequent_bigrams(alias, model._meta.db_table, column)
    arguments = [textsearch.index_key(term, frequent) for term in indexed] + list(terms)
    shape = (alias, column, len(indexed), len(terms))
    keys = [_placeholder(_Term, index, f"\x00{index}\x00") for index in range(len(indexed))]
    words = [_placeholder(_Term, len(keys) + index, f"\x00{len(keys) + index}\x00") for index in range(len(terms))]

    def live_parts() -> list[QuerySet]:
        return [part for part in parts() if not part.query.is_empty()]

    if frequent and any(textsearch._is_rare(term, frequent) for term in indexed):
        # The rare term's ids from the index alone (textsearch._rare_candidates), the same statement for everyone.
        (lookup,) = _statements(
            (model._meta.label, *shape, textsearch.PG_RARE_CANDIDATES),
            lambda: [
                compile_statement(
                    textsearch.matching_keys(
                        model._base_manager.db_manager(alias).order_by(), column, keys, words
                    ).values_list("pk", flat=True)[: textsearch.PG_RARE_CANDIDATES],
                    [*keys, *words],
                )
            ],
        )
        ids = run_statement(lookup, alias, arguments) if lookup else []
        if len(ids) < textsearch.PG_RARE_CANDIDATES:
            if not ids:
                return []
            among = _placeholder(_Ids, 0, [])
            scoped = _statements(
                (key, alias, "ids", limit),
                lambda: [compile_statement(part.filter(PkAmong(among))[:limit], [among]) for part in live_parts()],
            )
            return [row for statement in scoped if statement for row in run_statement(statement, alias, [ids])]
    scoped = _statements(
        (key, *shape, "terms", limit),
        lambda: [
            compile_statement(textsearch.matching_keys(part, column, keys, words)[:limit], [*keys, *words])
            for part in live_parts()
        ],
    )
    return [row for statement in scoped if statement for row in run_statement(statement, alias, arguments)]
