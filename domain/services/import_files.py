"""Reading an import file row by row: CSV or XLSX, in constant memory (D12).

CSV: UTF-8 with or without a BOM, else Latin-1 (decided by reading the file
once through an incremental decoder); the delimiter is sniffed
(``csv.Sniffer``, comma when it cannot tell). XLSX: the first sheet, read-only
(openpyxl streams it). Either way: the first non-blank row is the header;
blank rows are skipped; empty trailing columns and cells past the header are
ignored. A row's number is its line in the file (the header is row 1), as a
spreadsheet shows it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import openpyxl

SAMPLE = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"

Source = bytes | Path


@dataclass
class ImportFile:
    """An opened import file: its header and its rows (number, column -> text)."""

    header: list[str]
    rows: Iterator[tuple[int, dict[str, str | None]]]
    encoding: str | None = None
    delimiter: str | None = None


def _open(source: Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def is_xlsx(source: Source, name: str = "") -> bool:
    """An XLSX file (by its name, or a zip's first bytes)."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        return True
    with _open(source) as f:
        return f.read(4) == XLSX_MAGIC


def detect_encoding(source: Source) -> str:
    """utf-8-sig when the whole file decodes as UTF-8 (a BOM or not), else latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _open(source) as f:
        try:
            while chunk := f.read(SAMPLE):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig"


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _header(cells: list[Any]) -> list[str]:
    names = ["" if c is None else str(c).strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    return names


def _rows(
    header: list[str], numbered: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    for number, cells in numbered:
        if _blank(cells):
            continue
        yield (
            number,
            {
                name: _cell(cells[i]) if i < len(cells) else None
                for i, name in enumerate(header)
                if name
            },
        )


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _first_row(
    numbered: Iterator[tuple[int, list[Any]]],
) -> list[str]:
    for _, cells in numbered:
        if not _blank(cells):
            return _header(cells)
    return []


def open_csv(source: Source) -> ImportFile:
    """A CSV file's header and rows (see the module doc)."""
    encoding = detect_encoding(source)
    with _open(source) as f:
        sample = f.read(SAMPLE).decode(encoding, errors="replace")
    delimiter = _sniff(sample)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        with _open(source) as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            for number, cells in enumerate(csv.reader(text, delimiter=delimiter), 1):
                yield number, list(cells)

    walk = numbered()
    header = _first_row(walk)
    return ImportFile(header, _rows(header, walk), encoding, delimiter)


def open_xlsx(source: Source) -> ImportFile:
    """An XLSX file's first sheet: header and rows (see the module doc)."""

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        book = openpyxl.load_workbook(_open(source), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
                yield number, list(cells)
        finally:
            book.close()

    walk = numbered()
    header = _first_row(walk)
    return ImportFile(header, _rows(header, walk))


def open_import_file(source: Source, name: str = "") -> ImportFile:
    """An import file, CSV or XLSX."""
    return open_xlsx(source) if is_xlsx(source, name) else open_csv(source)


def count_rows(source: Source, name: str = "") -> int:
    """How many rows (not blank, not the header) the file has: one pass."""
    return sum(1 for _ in open_import_file(source, name).rows)
