"""Reading import files (D12): CSV encodings and delimiters, XLSX, tolerance."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from domain.services.import_files import count_rows, open_import_file


def rows(source: bytes | Path, name: str = "list.csv") -> list:
    return list(open_import_file(source, name).rows)


def test_utf8_with_a_bom_reads_the_header_without_it():
    data = "\ufeffName;Email\r\nZoë;zoe@acme.com\r\n".encode()
    f = open_import_file(data, "l.csv")
    assert (f.header, f.encoding, f.delimiter) == (["Name", "Email"], "utf-8-sig", ";")
    assert list(f.rows) == [(2, {"Name": "Zoë", "Email": "zoe@acme.com"})]


def test_a_file_that_is_not_utf8_is_read_as_latin1():
    data = "Name,City\nJosé,Zürich\n".encode("latin-1")
    f = open_import_file(data, "l.csv")
    assert f.encoding == "latin-1"
    assert list(f.rows) == [(2, {"Name": "José", "City": "Zürich"})]


def test_the_delimiter_is_sniffed():
    for sep in (",", ";", "\t", "|"):
        data = f"a{sep}b\n1{sep}2\n3{sep}4\n".encode()
        f = open_import_file(data, "l.csv")
        assert f.delimiter == sep
        assert list(f.rows) == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


def test_blank_lines_and_trailing_empty_columns_are_tolerated():
    data = b"\n\na,b,,\n1,2,,\n\n,,,\n3\n4,5,6,7\n"
    f = open_import_file(data, "l.csv")
    assert f.header == ["a", "b"]
    assert list(f.rows) == [
        (4, {"a": "1", "b": "2"}),
        (7, {"a": "3", "b": None}),
        (8, {"a": "4", "b": "5"}),
    ]


def test_an_xlsx_files_first_sheet_is_read_row_by_row(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Lead Number", "Email", "Employees", None])
    sheet.append([660737, "a@acme.com", 12.0, None])
    sheet.append([None, None, None, None])
    sheet.append([660738, "b@acme.com", 2.5, None])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "list.xlsx"
    path.write_bytes(buffer.getvalue())
    expected = [
        (2, {"Lead Number": "660737", "Email": "a@acme.com", "Employees": "12"}),
        (4, {"Lead Number": "660738", "Email": "b@acme.com", "Employees": "2.5"}),
    ]
    assert rows(path, "list.xlsx") == expected
    # By its content too (an upload may have any name).
    assert rows(buffer.getvalue(), "upload") == expected
    assert count_rows(path) == 2


def test_a_csv_on_disk_streams_from_the_path(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("n,email\n")
        for n in range(5000):
            f.write(f"{n},p{n}@acme.com\n")
    walk = open_import_file(path).rows
    assert next(walk) == (2, {"n": "0", "email": "p0@acme.com"})
    assert count_rows(path) == 5000
