"""The one spreadsheet writer (csv and xlsx whose cells are data, never code) and the reader
every import shares.  Knows no domain.

SPEC §7 "Spreadsheets are data": no exported cell is ever a formula.  A text that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as text (xlsx: a string cell
with Excel's quote prefix; csv: prefixed with ``'``).  Characters an xlsx file cannot hold
(C0 controls but tab, LF and CR; lone surrogates) are replaced by U+FFFD, so that one bad
value never fails an export for everyone whose scope holds it.

Workbooks are write-only (rows go to a temporary file as they are appended) and every file is
spooled (in memory while small, on disk beyond a megabyte): bounded memory for any ledger.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from flask_babel import gettext, lazy_gettext
from flask_babel import lazy_gettext as _l

from tracker import text as text_rules
from tracker.errors import TooLarge, UnsupportedFile

#: The one xlsx media type.
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The csv media type (sent with ``charset=utf-8``).
CSV_MIMETYPE = "text/csv"
#: What a spreadsheet program would read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters an xlsx (XML 1.0) cell cannot hold: C0 but tab/LF/CR, and lone surrogates.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: In memory up to this many bytes, then on disk.
SPOOL_BYTES = 1024 * 1024
_PLAIN = (int, float, Decimal, date, datetime, bool)


def spool() -> IO[bytes]:
    """A temporary binary file: in memory while small, on disk beyond a megabyte."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


def writable(text: str) -> str:
    """``text`` with every character a spreadsheet cannot hold replaced by U+FFFD."""
    return UNWRITABLE.sub("\ufffd", text)


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet program would take ``text`` for a formula."""
    return text.startswith(FORMULA_STARTS)


def _value(value: Any) -> Any:
    """A plain cell value: numbers, dates and None as they are, anything else as clean text."""
    if value is None or isinstance(value, _PLAIN):
        return value
    return writable(str(value))


# --- csv ---------------------------------------------------------------------------------


def csv_value(value: Any) -> Any:
    """One csv field: formula-looking text prefixed with ``'``; dates in ISO 8601."""
    value = _value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[Iterable[Any]], *, every: int = 200) -> Iterator[bytes]:
    """UTF-8 csv (with a BOM, so that Excel in China opens it as UTF-8), ``every`` rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_value(v) for v in row])
        if n % every == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_file(rows: Iterable[Iterable[Any]]) -> IO[bytes]:
    """The csv of ``rows`` in a spooled file, rewound."""
    out = spool()
    for chunk in csv_chunks(rows):
        out.write(chunk)
    out.seek(0)
    return out


# --- xlsx --------------------------------------------------------------------------------


#: Characters a sheet's name cannot hold, and its longest length (Excel's rules).
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
SHEET_TITLE_MAX = 31


def sheet_title(title: str) -> str:
    """``title`` as a sheet may be named: without ``[]:*?/\\``, at most 31 characters."""
    clean = _SHEET_TITLE_BAD.sub("_", writable(str(title))).strip("' ")
    return clean[:SHEET_TITLE_MAX] or "Sheet"


def sheet_reference(title: str, column: str, first: int, last: int) -> str:
    """An absolute reference to ``column``'s rows ``first``..``last`` of the sheet ``title``,
    e.g. ``'lists'!$A$2:$A$10001`` (quotes doubled inside the quoted name)."""
    quoted = sheet_title(title).replace("'", "''")
    return f"'{quoted}'!${column}${first}:${column}${max(first, last)}"


#: Points of one line of 11 pt text in a row, by script: Tibetan stacks above and below the
#: line and needs twice the room of Chinese or Latin (Noto Serif Tibetan's line is 31 pt).
LINE_POINTS = {"zh": 15.0, "bo": 30.0}


def text_width(text: str) -> float:
    """How wide ``text`` prints, in the units of a column's width (one Latin character):
    a Chinese character takes two, a Tibetan letter about 1.1 (Noto Serif Tibetan, measured),
    and the marks that stack on a Tibetan letter nothing."""
    width = 0.0
    for char in text:
        if unicodedata.combining(char) or "\u0f71" <= char <= "\u0f87" \
                or "\u0f8d" <= char <= "\u0fbc":
            continue  # vowel signs and subjoined letters stack on their letter
        if "\u0f00" <= char <= "\u0fff":
            width += 1.1
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            width += 2.0
        else:
            width += 1.0
    return width


def lines_needed(text: Any, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` characters wide (at least one)."""
    if text is None or text == "":
        return 1
    usable = max(1.0, width - 1.5)  # the cell's own padding
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in str(text).split("\n"))


class Sheet:
    """One write-only worksheet: make cells, append rows, merge areas, add dropdowns."""

    def __init__(self, ws: Any, font: str | None = None) -> None:
        self.ws = ws
        #: Rows appended so far (the number of the last row written).
        self.rows = 0
        #: The one font every cell is written in (None: the program's default).
        self.font = font

    def cell(self, value: Any, *, bold: bool = False, size: float | None = None,
             number_format: str | None = None, boxed: bool = False,
             align: str | None = None, wrap: bool = False, valign: str | None = None,
             italic: bool = False, color: str | None = None, fill: str | None = None) -> Any:
        """A styled cell holding ``value`` as data (a formula-looking text stays text)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        value = _value(value)
        cell = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str) and looks_like_formula(value):
            cell.data_type = "s"  # openpyxl takes a leading "=" for a formula otherwise
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        if self.font is not None or bold or size is not None or italic or color is not None:
            # Named on every cell, plain or bold: a cell without a name prints in whatever
            # the program defaults to, which is not the other cells' face.
            cell.font = Font(name=self.font, bold=bold, size=size, italic=italic, color=color)
        if fill is not None:
            cell.fill = PatternFill("solid", fgColor=fill)
        if number_format is not None:
            cell.number_format = number_format
        if boxed:
            thin = Side(style="thin")
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        if align is not None or wrap or valign is not None:
            cell.alignment = Alignment(horizontal=align, wrap_text=wrap or None,
                                       vertical=valign or ("top" if wrap else None))
        return cell

    def append(self, values: Iterable[Any], *, height: float | None = None) -> None:
        """Append one row (``height`` in points, or the program's); plain values become safe
        cells, cells made by ``cell`` stay."""
        from openpyxl.cell.cell import Cell

        if height is not None:
            # Written with the row, so set before it (a write-only sheet keeps no rows).
            self.ws.row_dimensions[self.rows + 1].height = height
        self.ws.append([v if isinstance(v, Cell) else self.cell(v) for v in values])
        self.rows += 1

    def page_break_after(self, row: int) -> None:
        """Start a new printed page after ``row``."""
        from openpyxl.worksheet.pagebreak import Break

        self.ws.row_breaks.append(Break(id=row))

    def footer(self, *, left: str | None = None, centre: str | None = None,
               right: str | None = None, size: float = 9) -> None:
        """The printed footer of every page; ``&P`` is the page's number, ``&N`` the count."""
        for part, text in ((self.ws.oddFooter.left, left), (self.ws.oddFooter.center, centre),
                           (self.ws.oddFooter.right, right)):
            if text is not None:
                part.text = text
                part.size = size
                if self.font is not None:
                    part.font = self.font

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Merge an area (1-based rows and columns); its other cells should be left empty."""
        from openpyxl.utils import get_column_letter

        if (first_row, first_col) == (last_row, last_col):
            return
        self.ws.merged_cells.add(f"{get_column_letter(first_col)}{first_row}:"
                                 f"{get_column_letter(last_col)}{last_row}")

    def dropdown(self, cells: str, source: str) -> None:
        """A list validation on ``cells`` (e.g. ``B2:B10001``) whose choices are the range
        ``source`` (``sheet_reference``): a range, unlike an inline list, has no length cap.
        A value outside the list is warned about, not refused (whoever reads the file judges
        it), and blank stays allowed."""
        from openpyxl.worksheet.datavalidation import DataValidation

        rule = DataValidation(type="list", formula1=source, allow_blank=True,
                              showErrorMessage=True, errorStyle="warning")
        rule.add(cells)
        self.ws.data_validations.append(rule)


class Workbook:
    """A write-only workbook saved to a spooled file."""

    def __init__(self) -> None:
        from openpyxl import Workbook as OpenpyxlWorkbook

        self.wb = OpenpyxlWorkbook(write_only=True)

    def sheet(self, title: str, *, widths: Iterable[float] = (), freeze: str | None = None,
              print_title_rows: str | None = None, landscape: bool = False,
              fit_width: bool = False, hidden: bool = False, a4: bool = False,
              font: str | None = None) -> Sheet:
        """A new sheet with its column widths (in characters), frozen panes and print set-up:
        print titles (rows repeated on every printed page), landscape paper, fitted to one
        page wide (as many pages high as it takes), A4 paper set in the file (a program
        otherwise takes its own default, US Letter in many), one ``font`` for every cell;
        ``hidden`` for lists behind dropdowns."""
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(sheet_title(title))
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        if freeze is not None:
            ws.freeze_panes = freeze
        if print_title_rows is not None:
            ws.print_title_rows = print_title_rows
        if landscape:
            ws.page_setup.orientation = "landscape"
        if fit_width:
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
        if a4:
            ws.page_setup.paperSize = "9"  # A4 (ECMA-376 paper code 9)
            ws.page_margins.left = ws.page_margins.right = 0.5
            ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.8
            ws.page_margins.header, ws.page_margins.footer = 0.3, 0.35
            ws.print_options.horizontalCentered = True
        if hidden:
            ws.sheet_state = "hidden"
        return Sheet(ws, font)

    def save(self) -> IO[bytes]:
        """The workbook in a spooled file, rewound."""
        out = spool()
        self.wb.save(out)
        out.seek(0)
        return out


# --- reading -----------------------------------------------------------------------------
# Shared by every import (findings, users): the file's kind from its content, csv in UTF-8 or
# GB18030, xlsx read-only, row errors named by the sheet's own row numbers.


@dataclass
class RowError:
    """One problem in one row: the sheet's own row number (header = 1), column, reason."""

    row: int
    column: str
    #: A lazy message (with its arguments), rendered in the reader's language.
    message: Any
    #: The title the row gives (问题), so that the row can be found by what it says.
    title: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form, in the reader's language."""
        return {"row": self.row, "column": self.column, "message": str(self.message),
                "title": self.title, "text": str(self)}

    def __str__(self) -> str:
        if self.column:
            return gettext("Row %(row)s, %(column)s: %(message)s", row=self.row,
                           column=self.column, message=self.message)
        return gettext("Row %(row)s: %(message)s", row=self.row, message=self.message)


def normalise_header(value: Any) -> str:
    """A heading as compared: without spaces, marks around it or case."""
    text = str(value or "").strip().replace("\u3000", " ")
    # A Tibetan heading may end in a tsheg or a shad (ལས་ཁུངས་ / ལས་ཁུངས།).
    return re.sub(r"\s+", "", text).strip("*:：་།").lower()


def cell_text(value: Any) -> str:
    """A cell's value as trimmed text (a whole number without its ".0")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return text_rules.trim(str(value))


def kind_of(path: str, filename: str) -> str:
    """The file's kind, "xlsx" or "csv", from its content and name; 415 otherwise (before an
    upload is queued for a job, so that a wrong file is refused at once)."""
    return _sniff(path, filename)


def _sniff(path: str, filename: str) -> str:
    """The file's kind from its content and name: "xlsx" or "csv"; 415 otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    name = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        if name.endswith((".xlsx", ".xlsm")) or not name.endswith(".csv"):
            return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile(
            _l("Old Excel .xls files cannot be read: save the sheet as .xlsx or as CSV."),
            errors={"file": [_l("Save as .xlsx or CSV.")]},
        )
    if name.endswith((".csv", ".txt")) and b"\x00" not in head:
        return "csv"
    raise UnsupportedFile(
        _l("'%(name)s' is not an .xlsx or .csv spreadsheet.", name=filename),
        errors={"file": [_l("Upload an .xlsx or .csv file.")]},
    )


def csv_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes strictly; GB18030 otherwise."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _rows_csv(path: str) -> Iterator[list[Any]]:
    encoding = csv_encoding(path)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(fh, dialect)
    except UnicodeDecodeError as exc:
        raise UnsupportedFile(_l("The CSV file is neither UTF-8 nor GB18030 text."),
                              errors={"file": [_l("Save the CSV as UTF-8.")]}) from exc
    except csv.Error as exc:
        # NUL bytes, a field over the size limit: not a spreadsheet someone saved as CSV.
        raise UnsupportedFile(_l("The CSV file cannot be read: %(error)s.", error=str(exc)),
                              errors={"file": [_l("Upload an .xlsx or .csv file.")]}) from exc


def _rows_xlsx(path: str) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # Files not written by Excel warn about missing default styles; harmless here.
        warnings.simplefilter("ignore")
        # A file object, not the path: openpyxl refuses paths without an .xlsx suffix, and
        # uploads are saved under temporary names.
        with open(path, "rb") as fh:
            check_workbook_size(fh)  # before a byte is unpacked
            try:
                wb = load_workbook(fh, read_only=True, data_only=True)
            # A zip that holds no workbook fails in many ways (KeyError, ParseError, …).
            except Exception as exc:  # noqa: BLE001 - any parse failure of an untrusted file
                raise UnsupportedFile(
                    _l("The file is not a readable .xlsx workbook."),
                    errors={"file": [_l("Upload an .xlsx or .csv file.")]},
                ) from exc
            try:
                ws = wb.worksheets[0]
                for row in ws.iter_rows(values_only=True):
                    yield list(row)
            except Exception as exc:  # noqa: BLE001 - any parse failure of an untrusted file
                raise UnsupportedFile(
                    _l("The workbook is damaged and cannot be read."),
                    errors={"file": [_l("Upload an .xlsx or .csv file.")]},
                ) from exc
            finally:
                wb.close()


def read_rows(path: str, filename: str) -> Iterator[list[Any]]:
    """Stream the first sheet's rows (lists of cell values) from an xlsx or csv file."""
    kind = _sniff(path, filename)
    return _rows_xlsx(path) if kind == "xlsx" else _rows_csv(path)
# --- reading: a workbook is measured before it is unpacked --------------------------------

#: The most a workbook may unpack to (its zip members' declared sizes together).  A ledger
#: of 10,000 findings unpacks to about 15 MB.
MAX_UNPACKED_MB = 100
#: A member larger than UNPACKED_RATIO_FROM bytes may unpack to at most this many times its
#: packed size: sheets of text pack 5-30 times, a zip bomb thousands of times.
MAX_UNPACKED_RATIO = 100
UNPACKED_RATIO_FROM = 10 * 1024 * 1024


def check_workbook_size(fh: IO[bytes]) -> None:
    """Refuse an xlsx (a zip) that would unpack beyond the bounds, reading only its central
    directory (413 ``workbook_too_large``); the file position is restored.

    The declared sizes are binding: Python's zip reader stops a member at its declared size
    (and fails its CRC), so a member cannot unpack to more than it says here.  A file that
    is not a zip is left to the workbook reader to refuse.
    """
    position = fh.tell()
    try:
        with zipfile.ZipFile(fh) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    finally:
        fh.seek(position)
    unpacked = sum(m.file_size for m in members)
    bomb = any(m.file_size > UNPACKED_RATIO_FROM
               and m.file_size > MAX_UNPACKED_RATIO * max(m.compress_size, 1)
               for m in members)
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024 or bomb:
        raise TooLarge(
            lazy_gettext("The workbook would unpack to %(mb)s MB, far more than a sheet of "
                         "findings holds; it was not opened. Split it, or save it as CSV.",
                         mb=max(1, unpacked // (1024 * 1024))),
            reason="workbook_too_large",
            errors={"file": [lazy_gettext("At most %(mb)s MB once unpacked.",
                                          mb=MAX_UNPACKED_MB)]})


def estimate_rows(path: str, filename: str) -> int:
    """About how many rows the file's first sheet holds, without reading its cells: an xlsx
    sheet's declared dimension (``<dimension ref="A1:I10001"/>``), else its unpacked size at
    about 100 bytes a row; a csv's line count.  For progress bars and for choosing whether an
    import runs as a job; 0 when the file cannot be sized."""
    try:
        kind = _sniff(path, filename)
    except Exception:  # noqa: BLE001 - the reader refuses it with the proper error later
        return 0
    if kind == "csv":
        lines = 0
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                lines += chunk.count(b"\n")
        return max(0, lines - 1)
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = sorted((m for m in archive.infolist()
                             if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", m.filename)),
                            key=lambda m: int(re.sub(r"\D", "", m.filename) or 0))
            if not sheets:
                return 0
            with archive.open(sheets[0]) as fh:
                head = fh.read(4096).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return 0
    found = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    if found:
        return max(0, int(found.group(1)) - 1)
    return sheets[0].file_size // 100
