"""Read uploaded rosters (.csv / .xlsx) into a plain table and write exports safely.

Pure: no database, no web framework. Every problem with an uploaded file is reported as a
`SpreadsheetError` whose English template the caller translates, then formats with `params`.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain, islice
from typing import IO, Any
from xml.parsers import expat

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, get_column_letter

from app.i18n import N_

__all__ = [
    "SpreadsheetError",
    "Table",
    "neutralise_formula",
    "normalise_header",
    "read_table",
    "write_csv",
    "write_xlsx",
]

_ZIP_SIGNATURE = b"PK\x03\x04"
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Excel saves a password-protected .xlsx as an OLE2 container holding this stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_TEXT_EXTENSIONS = (".csv", ".txt", ".tsv")
_DELIMITERS = (",", ";", "\t")
# The header line is all we need to choose a delimiter; a small sample also keeps
# csv.Sniffer's backtracking regexes cheap.
_SNIFF_CHARS = 4096
# Excel's own sheet limit: a row number beyond it means a forged or broken file, and
# openpyxl would otherwise yield every missing row up to it.
_EXCEL_MAX_ROWS = 1_048_576
# An .xlsx is a zip of XML, and a small one can unpack to gigabytes (a 0.5 MB file of one very
# wide row or a huge sharedStrings part unpacked to 190 MB and kept a server busy for 80 s at
# 4.9 GB). So the zip's declared sizes are checked before anything is inflated (zipfile never
# inflates a member past its declared size), the parts openpyxl holds in memory are scanned
# with a streaming parser that stops at the first limit, and only then does openpyxl parse.
# A 20,000-row roster unpacks to ~5 MB; these limits leave a wide margin for real files.
_MAX_UNPACK_RATIO = 20  # unpacked size against the upload limit
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_PART_BYTES = 32 * 1024 * 1024  # one worksheet
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
# A part this large must not compress better than this: real XML stays far below it.
_RATIO_CHECKED_FROM = 1024 * 1024
MAX_MEMBER_RATIO = 200
MAX_COLUMNS = 256
MAX_CELLS = 500_000
# Excel's own limit on the text of one cell.
MAX_CELL_CHARS = 32767
# Blank lines included: ten times the largest import, and read in well under a second.
MAX_CSV_RECORDS = 200_000
# Excel keeps 15 significant digits, so any number from 10**15 up has been rounded.
_PRECISION_LIMIT = 10**15
# What Excel writes into a CSV for a long number in a "General" column, e.g. 1.10101E+17.
_EXCEL_SCIENTIFIC_RE = re.compile(r"[+-]?\d(?:\.\d+)?[eE]\+(\d+)")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# openpyxl's control characters plus what XML 1.0 also forbids (lone surrogates cannot be
# encoded, U+FFFE/U+FFFF make the sheet unreadable).
_XML_ILLEGAL_RE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|[\ud800-\udfff\ufffe\uffff]")
_EXCEL_MAX_CELL_CHARS = MAX_CELL_CHARS
# The export's formula guard: "'" before text a spreadsheet would run. Reading strips exactly
# that, so an exported file imported again gives back the values it was made from.
_GUARDED_RE = re.compile("'[=+\\-@\t\r]")
_SHEET_TITLE_INVALID_RE = re.compile(r"[\\*?:/\[\]]")
_WIDTH_SAMPLE_ROWS = 200
_MIN_WIDTH, _MAX_WIDTH = 6, 60


class SpreadsheetError(Exception):
    """A problem with an uploaded file, as an untranslated template plus its parameters."""

    def __init__(
        self,
        message_template: str,
        params: dict[str, Any] | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message_template = message_template
        self.params: dict[str, Any] = dict(params or {})
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The English message with its parameters filled in (for logs and tests)."""
        return self.message_template.format(**self.params)


@dataclass(frozen=True)
class Table:
    """A parsed upload: normalised header names and (row number, {name: text}) per data row."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def normalise_header(name: str) -> str:
    """Canonical column name: stripped, lower-case, runs of spaces/hyphens as '_', no BOM."""
    name = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", name)


def neutralise_formula(value: object) -> object:
    """Prefix "'" to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


# --------------------------------------------------------------------------- reading


_UNSUPPORTED = N_("This file type is not supported: upload an .xlsx workbook or a CSV UTF-8 file")
_NOT_XLSX = N_(
    "The file could not be read as an .xlsx workbook: it may be damaged or in another "
    "format. Open it in Excel, save it as .xlsx or CSV UTF-8 and upload it again"
)
_LOST_DIGITS = N_(
    "Row {row}, column {column}: {value} is a long number (such as an ID number) that the "
    "spreadsheet stored as a number, so digits were lost. Format the column as Text, "
    "re-type the values and upload the file again"
)


def read_table(
    data: bytes,
    *,
    filename: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    max_rows: int = 20000,
    max_bytes: int = 10 * 1024 * 1024,
) -> Table:
    """Parse an uploaded .xlsx or CSV UTF-8 file; raise SpreadsheetError for any bad input."""
    if len(data) > max_bytes:
        raise SpreadsheetError(
            N_("The file is too large ({size}); the limit is {limit}"),
            {"size": _format_size(len(data)), "limit": _format_size(max_bytes)},
        )
    if not data.strip():
        raise SpreadsheetError(N_("The file is empty"))
    required_names = _unique(normalise_header(name) for name in required)
    optional_names = [
        n for n in _unique(map(normalise_header, optional)) if n not in required_names
    ]
    expected = required_names + optional_names

    # The content decides, not the name: people rename files, and browsers report whatever.
    if data.startswith(_ZIP_SIGNATURE):
        records = _xlsx_records(data, max_unpacked=max_bytes * _MAX_UNPACK_RATIO)
    elif data.startswith(_OLE2_SIGNATURE):
        if _ENCRYPTED_PACKAGE in data:
            raise SpreadsheetError(
                N_("The file is password-protected: remove the password and upload it again")
            )
        raise SpreadsheetError(
            N_("Old .xls files are not supported: save the file as .xlsx or CSV UTF-8")
        )
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text" format; it would otherwise look like binary.
        raise SpreadsheetError(
            N_('The file is saved as UTF-16 ("Unicode Text"): save it as "CSV UTF-8"')
        )
    elif filename.lower().endswith(_TEXT_EXTENSIONS) or _looks_like_text(data):
        records = _csv_records(data, set(expected))
    else:
        raise SpreadsheetError(_UNSUPPORTED)
    try:
        return _build_table(records, required_names, expected, max_rows)
    finally:
        records.close()  # stop early on an error and release the workbook


# A record is (row number as Excel shows it, raw cells). Raw cells are str for CSV and
# openpyxl values for .xlsx; `_cell_text` turns either into stripped text.
_Record = tuple[int, Sequence[object]]


def _build_table(
    records: Iterator[_Record], required: list[str], expected: list[str], max_rows: int
) -> Table:
    header_row = 0
    header_cells: Sequence[object] = ()
    for row_number, cells in records:
        if any(_is_filled(cell) for cell in cells):
            header_row, header_cells = row_number, cells
            break
    else:
        raise SpreadsheetError(N_("The file is empty"))

    # Column index -> (normalised name, name as the user typed it). Blank header cells are
    # allowed (spacer columns) as long as no data sits under them.
    columns: dict[int, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    for index, cell in enumerate(header_cells):
        original = _cell_text(cell, row=header_row, column=get_column_letter(index + 1))
        name = normalise_header(original)
        if not name:
            continue
        if name in seen:
            raise SpreadsheetError(
                N_("Column {column} appears more than once in the header row"),
                {"column": original},
                row=header_row,
                column=name,
            )
        seen[name] = original
        columns[index] = (name, original)

    unknown = [original for name, original in seen.items() if name not in expected]
    if unknown:
        raise SpreadsheetError(
            N_("Unknown columns: {unknown}. The expected columns are: {expected}"),
            {"unknown": ", ".join(unknown), "expected": ", ".join(expected)},
            row=header_row,
            column=normalise_header(unknown[0]) if len(unknown) == 1 else None,
        )
    missing = [name for name in required if name not in seen]
    if missing:
        raise SpreadsheetError(
            N_("Missing required columns: {missing}"),
            {"missing": ", ".join(missing)},
            row=header_row,
            column=missing[0] if len(missing) == 1 else None,
        )

    rows: list[tuple[int, dict[str, str]]] = []
    for row_number, cells in records:
        values: dict[str, str] = {name: "" for name, _ in columns.values()}
        filled = False
        for index, cell in enumerate(cells):
            if not _is_filled(cell):
                continue
            if index not in columns:
                raise SpreadsheetError(
                    N_(
                        "Row {row} has more cells than the header row: the value in column "
                        "{column} has no heading"
                    ),
                    {"row": row_number, "column": get_column_letter(index + 1)},
                    row=row_number,
                    column=get_column_letter(index + 1),
                )
            name, original = columns[index]
            text = _cell_text(cell, row=row_number, column=original, column_name=name)
            values[name] = text
            filled = filled or bool(text)
        if not filled:
            continue
        if len(rows) >= max_rows:
            raise SpreadsheetError(
                N_("The file has more than {max_rows} data rows: split it into smaller files"),
                {"max_rows": max_rows},
                row=row_number,
            )
        rows.append((row_number, values))
    if not rows:
        raise SpreadsheetError(N_("The file has no data rows"), row=header_row)
    return Table(header=[name for name, _ in columns.values()], rows=rows)


def _is_filled(cell: object) -> bool:
    if cell is None:
        return False
    if isinstance(cell, str):
        return bool(cell.strip())
    return True


def _cell_text(value: object, *, row: int, column: str, column_name: str | None = None) -> str:
    """One cell as stripped text; long numbers that lost digits are an error."""

    def lost_digits(shown: str) -> SpreadsheetError:
        return SpreadsheetError(
            _LOST_DIGITS,
            {"row": row, "column": column, "value": shown},
            row=row,
            column=column_name or column,
        )

    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if _GUARDED_RE.match(text):
            text = text[1:].strip()
        match = _EXCEL_SCIENTIFIC_RE.fullmatch(text)
        # Only a CSV carries Excel's display text; 1E+11 and up is a 12+ digit number Excel
        # shortened to six significant digits, almost always an ID or phone number.
        if match and isinstance(value, _CsvText) and int(match.group(1)) >= 11:
            raise lost_digits(text)
        return text
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        # Excel stores doubles; an integer this large has been rounded to 15 digits
        # (LibreOffice writes 110101199001011000 with the lost digits as zeros).
        if abs(value) >= _PRECISION_LIMIT:
            raise lost_digits(str(value))
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= _PRECISION_LIMIT:
            raise lost_digits(format(value, ".15g"))
        if value.is_integer():
            return str(int(value))  # 13800138000.0 -> '13800138000'
        # What Excel displays: 15 significant digits hides float noise like 0.30000000000000004.
        return format(value, ".15g")
    if isinstance(value, datetime):  # before date: datetime is a date
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    return str(value).strip()


class _CsvText(str):
    """A cell that came from a CSV file (see the scientific-notation check in _cell_text)."""

    __slots__ = ()


# ----- CSV


def _looks_like_text(data: bytes) -> bool:
    sample = data[:_SNIFF_CHARS]
    if b"\x00" in sample or sample.lstrip(codecs.BOM_UTF8).lstrip().startswith(b"<"):
        # NULs mean binary; '<' is HTML/XML saved with a spreadsheet name, not CSV.
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_records(data: bytes, expected: set[str]) -> Generator[_Record, None, None]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            raise SpreadsheetError(
                N_(
                    "The file is not UTF-8 text (first problem on line {row}): save it as "
                    '"CSV UTF-8" and upload it again'
                ),
                {"row": line},
                row=line,
            ) from None
        # Chinese Excel saves plain "CSV" in the ANSI code page; decoding it silently would
        # work here but breaks as soon as a name needs a character outside GBK.
        raise SpreadsheetError(
            N_(
                "The file looks like it was saved in GBK/GB18030 encoding: in Excel choose "
                '"Save As" > "CSV UTF-8 (Comma delimited)" and upload it again'
            )
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpreadsheetError(
            N_("The file contains NUL bytes (line {row}) and is not a CSV text file"),
            {"row": line},
            row=line,
        )
    delimiter = _choose_delimiter(text, expected)
    return _iter_csv(text, delimiter)


def _iter_csv(text: str, delimiter: str) -> Generator[_Record, None, None]:
    # newline="" leaves \r\n and newlines inside quotes to the csv module, as it requires.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Count records, not lines: Excel shows a quoted multi-line cell as one row, and blank
    # lines as empty rows, so this is the row number the user sees.
    row_number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a runaway quote swallowing the file past the field limit
            if "field larger than field limit" in str(exc):
                raise SpreadsheetError(
                    N_(
                        "Row {row} has a cell longer than {limit} characters, or a quote "
                        "character that is never closed"
                    ),
                    {"row": row_number + 1, "limit": MAX_CELL_CHARS},
                    row=row_number + 1,
                ) from None
            raise SpreadsheetError(
                N_("Row {row} is not valid CSV: check for an unmatched quote character"),
                {"row": row_number + 1},
                row=row_number + 1,
            ) from None
        row_number += 1
        if row_number > MAX_CSV_RECORDS:
            raise SpreadsheetError(
                N_("The file has more than {limit} lines: split it into smaller files"),
                {"limit": MAX_CSV_RECORDS},
                row=row_number,
            )
        _check_width(len(cells), row_number)
        for index, cell in enumerate(cells):
            _check_length(len(cell), row_number, index + 1)
        yield row_number, [_CsvText(cell) for cell in cells]


def _check_width(columns: int, row: int) -> None:
    if columns > MAX_COLUMNS:
        raise SpreadsheetError(
            N_(
                "Row {row} has cells in column {column}; the limit is {limit} columns. Delete "
                "the unused columns and upload the file again"
            ),
            {"row": row, "column": get_column_letter(min(columns, 18278)), "limit": MAX_COLUMNS},
            row=row,
        )


def _check_length(length: int, row: int, column: int) -> None:
    if length > MAX_CELL_CHARS:
        letter = get_column_letter(min(column, 18278))
        raise SpreadsheetError(
            N_(
                "Row {row}, column {column}: the text is {length} characters long; the limit "
                "is {limit} characters"
            ),
            {"row": row, "column": letter, "length": length, "limit": MAX_CELL_CHARS},
            row=row,
            column=letter,
        )


def _choose_delimiter(text: str, expected: set[str]) -> str:
    """Pick ',', ';' or tab: whichever splits the header into the most known column names."""
    sample = text[:_SNIFF_CHARS]
    header_line = next((line for line in sample.splitlines() if line.strip()), "")
    scores: dict[str, tuple[int, int]] = {}
    for delimiter in _DELIMITERS:
        try:
            cells = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:
            cells = []
        known = sum(1 for cell in cells if normalise_header(cell) in expected)
        scores[delimiter] = (known, len(cells))
    best = max(scores.values())
    tied = [d for d in _DELIMITERS if scores[d] == best]
    if len(tied) == 1:
        return tied[0]
    if best[1] <= 1:
        return ","  # a one-column header: the delimiter is irrelevant, keep the default
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
    except csv.Error:
        return tied[0]


# ----- XLSX


def _xlsx_records(data: bytes, *, max_unpacked: int) -> Generator[_Record, None, None]:
    # Everything openpyxl touches is inside one try: a damaged zip surfaces as BadZipFile,
    # KeyError, ValueError, TypeError, AttributeError, zlib.error, XML ParseError, openpyxl's
    # InvalidFileException... and only lazily, while rows are read. The list is open-ended,
    # so this boundary catches Exception and lets our own SpreadsheetError through.
    workbook = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_archive(archive, min(max_unpacked, MAX_UNPACKED_BYTES))
            # Before openpyxl opens anything: loading reads all shared strings into memory
            # and walks a worksheet without a <dimension> tag from end to end.
            for info in archive.infolist():
                name = info.filename.lower()
                if name.endswith("sharedstrings.xml"):
                    with archive.open(info) as part:
                        _scan_shared_strings(part)
                elif "worksheets/" in name and name.endswith(".xml"):
                    with archive.open(info) as part:
                        _scan_sheet(part)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        if not workbook.worksheets:
            raise SpreadsheetError(N_("The workbook has no worksheets"))
        sheet = workbook.worksheets[0]
        # The <dimension> tag is written by whichever program made the file and is often
        # wrong (A1:A1 is common); trusting it would silently drop rows or columns.
        sheet.reset_dimensions()
        # iter_rows starts at row 1 and fills in rows missing from the XML, so the
        # position is the Excel row number.
        for row_number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if row_number > _EXCEL_MAX_ROWS:
                raise SpreadsheetError(_NOT_XLSX)
            yield row_number, cells
    except SpreadsheetError:
        raise
    except Exception as exc:
        raise SpreadsheetError(_NOT_XLSX) from exc
    finally:
        if workbook is not None:
            workbook.close()


_TOO_BIG_UNPACKED = N_("The workbook is too large when unpacked ({size}); the limit is {limit}")


def _check_archive(archive: zipfile.ZipFile, max_unpacked: int) -> None:
    """Refuse a zip bomb from the declared sizes alone, before anything is inflated."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError(
            N_("The workbook holds {count} files; the limit is {limit}"),
            {"count": len(members), "limit": MAX_ZIP_MEMBERS},
        )
    unpacked = sum(info.file_size for info in members)
    if unpacked > max_unpacked:
        raise SpreadsheetError(
            _TOO_BIG_UNPACKED,
            {"size": _format_size(unpacked), "limit": _format_size(max_unpacked)},
        )
    for info in members:
        name = info.filename.lower()
        limit = MAX_SHARED_STRINGS_BYTES if name.endswith("sharedstrings.xml") else MAX_PART_BYTES
        if info.file_size > limit:
            raise SpreadsheetError(
                N_("Part {part} of the workbook is too large when unpacked ({size}); the limit "
                   "is {limit}"),
                {"part": info.filename, "size": _format_size(info.file_size),
                 "limit": _format_size(limit)},
            )
        if (
            info.file_size > _RATIO_CHECKED_FROM
            and info.file_size > MAX_MEMBER_RATIO * max(info.compress_size, 1)
        ):
            raise SpreadsheetError(
                N_("Part {part} of the workbook unpacks {ratio} times larger than it is stored; "
                   "the limit is {limit} times. The file looks like a zip bomb"),
                {"part": info.filename, "ratio": info.file_size // max(info.compress_size, 1),
                 "limit": MAX_MEMBER_RATIO},
            )


class _Scan:
    """A streaming pass over one XML part with expat (C, no tree; defusedxml's ElementTree
    parser is pure Python and tripled the time of a big import). DTDs are refused, so no
    entity can expand."""

    def __init__(self) -> None:
        self.depth_in_text = 0  # inside <v> or <t>
        self.text_length = 0

    def run(self, part: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = self.refuse
        parser.EntityDeclHandler = self.refuse
        parser.ExternalEntityRefHandler = self.refuse_external
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.ParseFile(part)

    def refuse(self, *args: object) -> None:
        raise SpreadsheetError(_NOT_XLSX)

    def refuse_external(self, *args: object) -> int:
        raise SpreadsheetError(_NOT_XLSX)

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name[name.rfind(" ") + 1 :]
        if local in ("v", "t"):
            self.depth_in_text += 1
        else:
            self.element(local, attributes)

    def end(self, name: str) -> None:
        local = name[name.rfind(" ") + 1 :]
        if local in ("v", "t"):
            self.depth_in_text -= 1
            self.text_done()

    def text(self, data: str) -> None:
        if self.depth_in_text:
            self.text_length += len(data)

    def element(self, local: str, attributes: dict[str, str]) -> None:
        raise NotImplementedError

    def text_done(self) -> None:
        raise NotImplementedError


class _SharedStringsScan(_Scan):
    """Counts the shared strings and measures each (rich text runs summed)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def element(self, local: str, attributes: dict[str, str]) -> None:
        if local == "si":
            self.count += 1
            self.text_length = 0
            if self.count > MAX_CELLS:
                raise SpreadsheetError(
                    N_("The workbook holds more than {limit} different texts"),
                    {"limit": MAX_CELLS},
                )

    def text_done(self) -> None:
        # The runs of one <si> (rich text) add up; the count restarts at the next <si>.
        if self.text_length > MAX_CELL_CHARS:
            raise SpreadsheetError(
                N_("The workbook holds a text of more than {limit} characters"),
                {"limit": MAX_CELL_CHARS},
            )


class _SheetScan(_Scan):
    """Stops at the first cell past a limit, before openpyxl builds rows as wide as the widest
    cell (one cell in column XFD makes every row 16,384 values)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells = 0
        self.row = 0
        self.column = 0

    def element(self, local: str, attributes: dict[str, str]) -> None:
        if local == "c":
            reference = attributes.get("r")
            if reference:
                try:
                    self.column = column_index_from_string(reference.rstrip("0123456789"))
                except ValueError:
                    raise SpreadsheetError(_NOT_XLSX) from None
            else:
                self.column += 1
            _check_width(self.column, self.row)
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise SpreadsheetError(
                    N_("The sheet has more than {limit} cells: split it into smaller files"),
                    {"limit": MAX_CELLS},
                    row=self.row,
                )
        elif local == "row":
            number = attributes.get("r")
            self.row = int(number) if number and number.isdigit() else self.row + 1
            self.column = 0
            if self.row > _EXCEL_MAX_ROWS:
                raise SpreadsheetError(_NOT_XLSX)

    def text_done(self) -> None:
        _check_length(self.text_length, self.row, self.column)
        self.text_length = 0


def _scan_shared_strings(part: IO[bytes]) -> None:
    """Count and measure the shared strings, streaming, before openpyxl loads them all."""
    _SharedStringsScan().run(part)


def _scan_sheet(part: IO[bytes]) -> None:
    """Check a worksheet's columns, cells and texts, streaming, before openpyxl reads it."""
    _SheetScan().run(part)


# --------------------------------------------------------------------------- writing


def write_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet_title: str = "Sheet1"
) -> bytes:
    """Stream rows into a one-sheet .xlsx with a bold header; text can never become a formula.

    Timezone-aware datetimes are written with their own wall-clock time (Excel has no
    zones): convert them to the reader's timezone first.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_safe_sheet_title(sheet_title))
    remaining = iter(rows)
    # Column widths must be set before the first row is streamed, so size them from the
    # header and a sample of leading rows.
    sample = list(islice(remaining, _WIDTH_SAMPLE_ROWS))
    for index, width in enumerate(_column_widths(header, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width

    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = _xlsx_cell(sheet, name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in chain(sample, remaining):
        sheet.append([_xlsx_cell(sheet, value) for value in row])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV with a UTF-8 BOM (so Excel reads Chinese correctly) and neutralised formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in chain([header], rows):
        writer.writerow([_csv_cell(value) for value in row])
    # "replace" only matters for lone surrogates, which UTF-8 cannot encode.
    return buffer.getvalue().encode("utf-8-sig", errors="replace")


def _clean_text(value: str) -> str:
    value = _XML_ILLEGAL_RE.sub("", value)
    value = str(neutralise_formula(value))
    # XML parsers turn a raw CR into LF anyway; doing it here keeps what we write and what
    # is read back identical (Excel uses LF for line breaks inside a cell).
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value[:_EXCEL_MAX_CELL_CHARS]


def _xlsx_cell(sheet: Any, value: object) -> WriteOnlyCell:
    if isinstance(value, bool) or value is None:
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, int):
        if abs(value) >= _PRECISION_LIMIT:
            # Excel would round an ID number held as int; as text it keeps every digit.
            return _text_cell(sheet, str(value))
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return _text_cell(sheet, str(value))  # Excel has no NaN or infinity
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):  # before date: datetime is a date
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, time):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "hh:mm:ss"
        return cell
    if isinstance(value, timedelta):
        return WriteOnlyCell(sheet, value=value)
    return _text_cell(sheet, value if isinstance(value, str) else str(value))


def _text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_clean_text(value))
    # openpyxl infers 'f' for "=..." and 'e' for "#N/A"; text is text, whatever it says.
    cell.data_type = "s"
    return cell


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)  # a number is data, never a formula: "-5" stays a number
    return str(neutralise_formula(str(value)))


def _safe_sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of \ * ? : / [ ], no leading/trailing apostrophe.
    title = _XML_ILLEGAL_RE.sub("", _SHEET_TITLE_INVALID_RE.sub("_", title))
    title = title[:31].strip("'").strip()
    return title or "Sheet1"


def _column_widths(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[float]:
    widths = [_display_width(name) + 2 for name in header]  # + room for the bold font
    for row in rows:
        for index, value in enumerate(row):
            width = _display_width(value)
            if index < len(widths):
                widths[index] = max(widths[index], width)
            else:
                widths.append(width)
    return [float(min(max(width + 1, _MIN_WIDTH), _MAX_WIDTH)) for width in widths]


def _display_width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    text = value if isinstance(value, str) else str(value)
    longest = 0
    for line in text[:1000].splitlines() or [""]:
        # Chinese characters take two columns in Excel's default font.
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        longest = max(longest, width)
    return longest


# --------------------------------------------------------------------------- helpers


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name))


def _format_size(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.1f} MB".replace(".0 MB", " MB")
