"""Importers by kind. An app registers its importers in `<app>/importers.py`; the imports app runs them.

An importer turns mapped rows into a Plan without writing (every row checked with the same rules as the app's
services) and later applies that plan in bulk inside the one transaction the imports app opens around it.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.functional import Promise

from guanxi.imports.values import normalise_header


@dataclass(frozen=True)
class Field:
    """A target field of an import: its key, its label, the headers that mean it (any language)."""

    key: str
    label: str | Promise
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str | Promise = ""


@dataclass
class Row:
    """One data row: its number as the user sees it (spreadsheet row, or card number) and its values by field key."""

    number: int
    values: dict[str, Any]


@dataclass
class RowError:
    row: int
    field: str
    message: str
    value: str = ""


@dataclass
class Plan:
    """What an import would do. `payload` is the importer's own data, handed back to its apply()."""

    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    summary: dict = field(default_factory=dict)
    preview: list[dict] = field(default_factory=list)
    payload: Any = None

    @property
    def invalid_rows(self) -> int:
        return len({error.row for error in self.errors})

    def error(self, row: int, field_key: str, message, value: Any = "") -> None:
        self.errors.append(RowError(row=row, field=field_key, message=str(message), value=_short(value)))


Progress = Callable[[int], None]


class Importer:
    """Base class: subclasses set the attributes and implement plan() and apply()."""

    kind: str = ""
    label: str | Promise = ""
    permission: str = ""  # e.g. "customers.add_customer"
    formats: tuple[str, ...] = ("csv", "xlsx")
    fields: tuple[Field, ...] = ()
    # Options a client may set (e.g. which identifiers match existing records) and their defaults.
    default_options: dict = {}

    def field_keys(self) -> set[str]:
        return {f.key for f in self.fields}

    def header_index(self) -> dict[str, str]:
        """Normalised header → field key, from the keys, the labels in every language and the aliases."""
        index: dict[str, str] = {}
        for spec in self.fields:
            names = [spec.key, *spec.aliases]
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    names.append(str(spec.label))
            for name in names:
                index.setdefault(normalise_header(name), spec.key)
        return index

    def recognise(self, headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
        """A mapping for `headers`: what the user chose last time for the same header, else what the header says."""
        index, keys, remembered = self.header_index(), self.field_keys(), remembered or {}
        mapping: dict[str, str] = {}
        taken: set[str] = set()
        for header in headers:
            if not header or header in mapping:
                continue
            normalised = normalise_header(header)
            key = remembered.get(normalised)
            if key is None or (key and key not in keys):
                key = index.get(normalised, "")
            if key in taken:  # two columns for one field: the first wins, the user can change it
                key = ""
            mapping[header] = key
            if key:
                taken.add(key)
        return mapping

    def clean_options(self, options: dict) -> dict:
        """Options with defaults filled in; raise django ValidationError({"options": …}) on a bad one."""
        return {**self.default_options, **(options or {})}

    def missing_fields(self, mapped: set[str]) -> list[str]:
        """Labels of the fields a mapping must include (the required ones by default)."""
        return [str(f.label) for f in self.fields if f.required and f.key not in mapped]

    def plan(self, *, actor, rows: Iterable[Row], options: dict, progress: Progress) -> Plan:
        raise NotImplementedError

    def apply(self, *, actor, plan: Plan) -> None:
        """Write the plan. Runs inside the import's transaction; raise to roll everything back."""
        raise NotImplementedError


_importers: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _importers[importer.kind] = importer
    return importer


def get(kind: str) -> Importer | None:
    return _importers.get(kind)


def all_importers() -> Iterator[Importer]:
    """In the order they were registered (the main one of an app first)."""
    return iter(list(_importers.values()))


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 200 else text[:199] + "…"
