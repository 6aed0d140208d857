"""Reading uploaded files as tables: a header row and numbered data rows, whatever the format (CSV, XLSX, vCard)."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guanxi.imports.registry import Importer
from guanxi.imports.values import normalise_header

HEADER_SCAN_ROWS = 10
XLSX_BYTES_PER_ROW = 40  # a title line or two above the header row is common in Chinese templates

# vCard properties as pseudo-headers, so a vCard reads like any other table.
VCARD_HEADERS = ["FN", "ORG", "TITLE", "TEL;CELL", "TEL", "EMAIL", "BDAY", "X-WECHAT", "X-GUANXI-CUSTOMER", "NOTE"]


@dataclass
class Table:
    headers: list[str]
    header_row: int
    estimated_rows: int
    path: Path
    format: str

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number as the user sees it, cell values) for every non-empty row below the header."""
        if self.format == "vcf":
            yield from _vcard_rows(self.path)
            return
        source = _csv_lines(self.path) if self.format == "csv" else _xlsx_lines(self.path)
        for number, cells in source:
            if number <= self.header_row or not any(_filled(c) for c in cells):
                continue
            yield number, cells


def detect_format(name: str, head: bytes) -> str | None:
    """csv, xlsx or vcf from the file's first bytes and name; None for anything else."""
    suffix = Path(name).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if suffix in (".xlsx", ".xlsm", "") else None
    if b"BEGIN:VCARD" in head[:2048].upper():
        return "vcf"
    if suffix in (".csv", ".txt", ""):
        return "csv"
    return None


def open_table(path: Path, fmt: str, importer: Importer, *, header_row: int | None = None) -> Table:
    """The table of a stored file. Its header row is `header_row` when known, else the one among the first rows
    that names most known fields (title lines above the header are common in Chinese templates)."""
    if fmt == "vcf":
        text = _decode(path.read_bytes())
        return Table(VCARD_HEADERS, 0, text.upper().count("BEGIN:VCARD"), path, fmt)
    known = importer.header_index()
    source = _csv_lines(path) if fmt == "csv" else _xlsx_lines(path)
    best: tuple[int, int, list] | None = None
    for scanned, (number, cells) in enumerate(source):
        if header_row is not None:
            if number == header_row:
                best = (0, number, list(cells))
                break
            continue
        if scanned >= HEADER_SCAN_ROWS:
            break
        if not any(_filled(c) for c in cells):
            continue
        score = sum(1 for c in cells if normalise_header(c) in known)
        if best is None or score > best[0]:
            best = (score, number, list(cells))
    source.close()
    if best is None:
        raise ValidationError({"file": _("The file has no header row.")})
    _score, found_row, cells = best
    while cells and not _filled(cells[-1]):
        cells = cells[:-1]
    headers = [str(c).strip() if _filled(c) else "" for c in cells]
    return Table(headers, found_row, _estimate(path, fmt, found_row), path, fmt)


def _estimate(path: Path, fmt: str, header_row: int) -> int:
    if fmt == "csv":
        with path.open("rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return max(lines - header_row + 1, 0)
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        max_row = workbook.active.max_row or 0
    finally:
        workbook.close()
    if not max_row:  # a writer that left out the sheet's dimension: guess from the size (~40 bytes a row, zipped)
        return path.stat().st_size // XLSX_BYTES_PER_ROW
    return max(max_row - header_row, 0)


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: Excel on Chinese Windows saves CSV in GBK."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": _("The file is neither UTF-8 nor GB18030 text.")}) from exc


def _csv_lines(path: Path) -> Iterator[tuple[int, list]]:
    text = _decode(path.read_bytes())
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise ValidationError({"file": _("The CSV file is malformed: %(error)s") % {"error": exc}}) from exc


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException … for damaged files
        raise ValidationError({"file": _("The file is not a readable XLSX workbook.")}) from exc
    try:
        yield from enumerate(workbook.active.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _vcard_rows(path: Path) -> Iterator[tuple[int, list]]:
    import vobject

    text = _decode(path.read_bytes())
    try:
        for number, card in enumerate(vobject.readComponents(text, ignoreUnreadable=True), start=1):
            yield number, vcard_values(card)
    except Exception as exc:  # vobject raises ParseError and friends
        raise ValidationError({"file": _("The vCard file is malformed: %(error)s") % {"error": exc}}) from exc


def vcard_values(card) -> list:
    """One vCard (3.0 or 4.0) as cells in VCARD_HEADERS order."""
    contents = card.contents

    def first(key: str) -> str:
        items = contents.get(key) or []
        return _text(items[0].value) if items else ""

    cell, other = "", ""
    for tel in contents.get("tel", []):
        number = _tel(tel.value)
        types = _types(tel)
        if "cell" in types and not cell:
            cell = number
        elif not other:
            other = number
    name = first("fn")
    if not name and contents.get("n"):
        n = contents["n"][0].value
        name = f"{getattr(n, 'family', '')}{getattr(n, 'given', '')}".strip()
    org = contents.get("org")
    org_name = (
        _text(org[0].value[0] if isinstance(org[0].value, list) and org[0].value else org[0].value) if org else ""
    )
    return [
        name,
        org_name,
        first("title"),
        cell,
        other,
        first("email"),
        first("bday"),
        first("x-wechat"),
        first("x-guanxi-customer"),
        first("note"),
    ]


def _types(line) -> set[str]:
    values = [*line.params.get("TYPE", []), *getattr(line, "singletonparams", [])]
    return {part.strip().strip('"').lower() for value in values for part in str(value).split(",")}


def _tel(value) -> str:
    text = _text(value)
    return text[4:] if text.lower().startswith("tel:") else text


def _text(value) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v)
    return str(value or "").strip()


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""
