"""Uploaded spreadsheets read within bounds (docs/decisions.md, "Imports bounded before
they are parsed").

An .xlsx file is a ZIP of XML parts, and what it costs to read is not what it weighs: a
1.7 KB file may declare a range of 49 million cells, a 333 KB one may unpack to a row of
3 million cells, and XML may declare entities that expand a billion-fold or name a file
on the server. So before openpyxl reads anything:

1. the ZIP directory is checked: how many parts, how much they unpack to, in all and
   against their compressed size (the directory's sizes bind: ``zipfile`` never unpacks
   more than a part declares, and fails on a part that lied);
2. every part is read once with defusedxml's SAX parser, which refuses a DTD (so no
   entity, internal or external, can exist), builds no tree and stops at the first
   limit passed: a sheet's declared ``<dimension ref>`` is checked when it is met, at
   the start of the sheet; then the rows and cells actually present are counted (a
   dimension may lie), and so are the elements openpyxl would keep as a tree.

Only then openpyxl reads the first sheet, without the declared dimension (rows are as
wide as their own cells), and the cells are counted once more as they are read. A .csv
file gets the same row, column, cell and text limits. Every refusal is a 422 naming the
file and the limit passed, and nothing has been written.
"""

from __future__ import annotations

import csv
import io
import xml.sax
import zipfile
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)

from deliberation.errors import FileTooLarge, UnsafeFile, ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
"""The file as uploaded (the roster of 5 000 people is about 140 KB as .xlsx)."""
MAX_UNPACKED = 10 * 1024 * 1024
"""All parts of an .xlsx unpacked (5 000 people × 6 columns: 1.7 MB)."""
MAX_RATIO = 100
"""How much more a part may unpack to than it weighs, for parts over ``RATIO_FROM``
(a sheet of people unpacks 12-fold; a sheet of one repeated cell, 1 000-fold)."""
RATIO_FROM = 1024 * 1024
MAX_PARTS = 1000
MAX_SHEET_ROWS = 10_000
"""Rows of a sheet or a .csv, header and empty rows included, and the last row number
(twice the 5 000 people an import takes)."""
MAX_COLUMNS = 50
"""The last column (AX): the six columns of the template, 序号, 备注 and many more."""
MAX_CELLS = 60_000
"""Cells present in all sheets (or fields of a .csv), and distinct shared strings:
5 000 people with 12 columns each. At this limit and ``MAX_UNPACKED`` (every cell a
different text, 9 MB unpacked) reading peaked 21 MB over the resident size (measured)."""
MAX_CELL_CHARS = 500
"""Characters in one cell (a name may have 100)."""
MAX_ELEMENTS_IN_ROW = 2_000
"""XML elements inside one row or one shared string: openpyxl builds each row as a tree
before it hands it over (50 cells of rich text with a dozen runs each)."""
MAX_OTHER_ELEMENTS = 20_000
"""XML elements outside rows and shared strings, in all parts: openpyxl keeps them as
trees and objects (a cell style costs it 0.75 KB); a roster's styles, theme, workbook and
relationships have a few hundred."""

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW = (SHEET_NS, "row")
_CELL = (SHEET_NS, "c")
_SHARED_STRING = (SHEET_NS, "si")
_DIMENSION = (SHEET_NS, "dimension")
_SHEET_DATA = (SHEET_NS, "sheetData")
_WORKSHEET = (SHEET_NS, "worksheet")
_SHARED_STRINGS = (SHEET_NS, "sst")
_MERGE_CELL = (SHEET_NS, "mergeCell")

LIMITS = (
    f"每个文件最多 {MAX_SHEET_ROWS} 行、{MAX_COLUMNS} 列"
    f"（到 {get_column_letter(MAX_COLUMNS)} 列）、{MAX_CELLS} 个单元格"
)


def _name(filename: str) -> str:
    return f"“{filename[:100]}”" if filename else "文件"


def too_large(filename: str, message: str) -> FileTooLarge:
    """Refused for a limit passed: ``message`` says which, the detail names the file."""
    return FileTooLarge(
        [{"field": "file", "message": message}], detail=f"{_name(filename)}超出导入上限：{message}"
    )


def unsafe(filename: str, message: str) -> UnsafeFile:
    return UnsafeFile(
        [{"field": "file", "message": message}],
        detail=f"{_name(filename)}含有不安全的内容，没有读取：{message}",
    )


def unreadable(message: str) -> ValidationFailed:
    return ValidationFailed([{"field": "file", "message": message}])


NOT_XLSX = "无法读取这个 Excel 文件，请确认是 .xlsx 格式"


class _Tally:
    """What the parts read so far hold, against the limits (for the whole file)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.rows = 0
        self.cells = 0
        self.strings = 0
        self.other_elements = 0
        self.merged: dict[str, list[str]] = {}
        """Each worksheet part's merged ranges (``<mergeCell ref>``), by part name."""

    def refuse(self, message: str) -> FileTooLarge:
        return too_large(self.filename, message)


class _PartCounter(ContentHandler):
    """Counts one XML part as the SAX parser reads it; raises at the first limit.

    openpyxl streams two kinds of part, clearing each piece once read: a worksheet's rows
    and the shared strings' ``<si>``. Those are counted as rows, cells and strings, each
    piece's elements capped (openpyxl builds one piece as a tree at a time). Every other
    element, in any part, is kept by openpyxl as a tree: those are counted together."""

    def __init__(self, tally: _Tally, part: str = "") -> None:
        super().__init__()
        self.tally = tally
        self.part = part
        self.depth = 0
        self.root: tuple[str | None, str] | None = None
        self.in_sheet_data = False
        self.piece_depth = 0
        """The depth of the open row (or shared string), 0 outside one."""
        self.piece_elements = 0
        self.row_number = 0
        self.column = 0

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        self.depth += 1
        tally = self.tally
        if self.depth == 1:
            self.root = name
        if self.piece_depth:
            self.piece_elements += 1
            if self.piece_elements > MAX_ELEMENTS_IN_ROW:
                raise tally.refuse(
                    f"第 {self.row_number} 行（或其中一段文字）过于复杂，"
                    f"超过 {MAX_ELEMENTS_IN_ROW} 个部分"
                )
            if name == _CELL and self.depth == self.piece_depth + 1:
                self._cell(attrs)
            return
        if name == _ROW and self.in_sheet_data:
            self._row(attrs)
            return
        if name == _SHARED_STRING and self.root == _SHARED_STRINGS and self.depth == 2:
            self._piece()
            tally.strings += 1
            if tally.strings > MAX_CELLS:
                raise tally.refuse(f"不同的文字超过 {MAX_CELLS} 段（{LIMITS}）")
            return
        tally.other_elements += 1
        if tally.other_elements > MAX_OTHER_ELEMENTS:
            raise tally.refuse(f"表格的格式和其他内容过多（超过 {MAX_OTHER_ELEMENTS} 项）")
        if name == _SHEET_DATA and self.root == _WORKSHEET and self.depth == 2:
            self.in_sheet_data = True
        elif name == _DIMENSION and self.root == _WORKSHEET:
            self._dimension(_attribute(attrs, "ref"))
        elif name == _MERGE_CELL and self.root == _WORKSHEET:
            self.tally.merged.setdefault(self.part, []).append(_attribute(attrs, "ref")[:40])

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        if self.depth == self.piece_depth:
            self.piece_depth = 0
        if name == _SHEET_DATA and self.depth == 2:
            self.in_sheet_data = False
        self.depth -= 1

    def _piece(self) -> None:
        self.piece_depth = self.depth
        self.piece_elements = 0

    def _dimension(self, ref: str) -> None:
        """The sheet's declared range, met at its start: refused before any row is read."""
        if not ref:
            return
        try:
            _, _, last_column, last_row = range_boundaries(ref.upper())
        except (ValueError, TypeError) as error:
            raise unreadable(NOT_XLSX) from error
        if (last_row or 0) > MAX_SHEET_ROWS or (last_column or 0) > MAX_COLUMNS:
            raise self.tally.refuse(
                f"工作表声明的范围是 {ref[:40]}（{last_row or 0} 行、{last_column or 0} 列），"
                f"{LIMITS}"
            )

    def _row(self, attrs: AttributesNSImpl) -> None:
        tally = self.tally
        self._piece()
        self.column = 0
        number = _attribute(attrs, "r")
        try:
            self.row_number = int(number) if number else self.row_number + 1
        except ValueError as error:
            raise unreadable(NOT_XLSX) from error
        tally.rows += 1
        if tally.rows > MAX_SHEET_ROWS or self.row_number > MAX_SHEET_ROWS:
            raise tally.refuse(f"行数超过 {MAX_SHEET_ROWS} 行（{LIMITS}）")

    def _cell(self, attrs: AttributesNSImpl) -> None:
        tally = self.tally
        reference = _attribute(attrs, "r")
        try:
            self.column = (
                column_index_from_string(coordinate_from_string(reference)[0])
                if reference
                else self.column + 1
            )
        except ValueError as error:
            raise unreadable(NOT_XLSX) from error
        if self.column > MAX_COLUMNS:
            raise tally.refuse(
                f"第 {self.row_number} 行有内容超过 {get_column_letter(MAX_COLUMNS)} 列（{LIMITS}）"
            )
        tally.cells += 1
        if tally.cells > MAX_CELLS:
            raise tally.refuse(f"单元格超过 {MAX_CELLS} 个（{LIMITS}）")


def _attribute(attrs: AttributesNSImpl, name: str) -> str:
    """An attribute without a namespace (``r``, ``ref``)."""
    try:
        return str(attrs.getValue((None, name)))
    except KeyError:
        return ""


def _check_directory(book: zipfile.ZipFile, filename: str) -> list[zipfile.ZipInfo]:
    parts = book.infolist()
    if len(parts) > MAX_PARTS:
        raise too_large(filename, f"压缩包里有 {len(parts)} 个部分，最多 {MAX_PARTS} 个")
    unpacked = sum(p.file_size for p in parts)
    if unpacked > MAX_UNPACKED:
        raise too_large(
            filename,
            f"解压后有 {unpacked / 1024 / 1024:.0f} MB，最多 {MAX_UNPACKED // 1024 // 1024} MB",
        )
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FROM and ratio > MAX_RATIO:
            raise too_large(
                filename,
                f"其中 {part.filename[:100]} 解压后是压缩时的 {ratio:.0f} 倍"
                f"（{part.file_size / 1024 / 1024:.0f} MB），最多 {MAX_RATIO} 倍",
            )
    return parts


def _scan_part(book: zipfile.ZipFile, part: zipfile.ZipInfo, tally: _Tally) -> None:
    """Read one part with the defused SAX parser (no DTD at all), counting as it goes."""
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(_PartCounter(tally, part.filename))
    source = xml.sax.xmlreader.InputSource(part.filename)
    with book.open(part) as stream:
        source.setByteStream(stream)
        try:
            parser.parse(source)
        except DefusedXmlException as error:
            raise unsafe(
                tally.filename,
                f"其中 {part.filename[:100]} 含有文档类型定义（DTD）或实体，"
                "可能用来读取服务器上的文件或耗尽内存；请在 Excel 中另存为新的 .xlsx 文件",
            ) from error
        except xml.sax.SAXParseException:
            # Not well-formed XML (a picture, or a broken part): openpyxl fails on it at the
            # same place if it reads it at all, and what came before was counted.
            return


def check_xlsx(content: bytes, filename: str) -> dict[str, list[str]]:
    """Every limit checked from the ZIP directory and the parts' XML, before openpyxl;
    the merged ranges of each worksheet part."""
    try:
        book = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise unreadable(NOT_XLSX) from error
    with book:
        parts = _check_directory(book, filename)
        tally = _Tally(filename)
        for part in parts:
            if part.is_dir():
                continue
            try:
                _scan_part(book, part, tally)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
                if isinstance(error, ValidationFailed):
                    raise
                raise unreadable(NOT_XLSX) from error  # a bad CRC, a size that lied, encrypted
    return tally.merged


class _Cells:
    """Cells as text, counted as they are read; equal values share one string (a shared
    string in 100 000 cells is kept once, not copied 100 000 times)."""

    def __init__(self, filename: str, text: Callable[[Any], str]) -> None:
        self.filename = filename
        self.text = text
        self.seen: dict[Any, str] = {}
        self.rows = 0
        self.cells = 0

    def row(self, values: Iterable[Any]) -> list[str]:
        self.rows += 1
        if self.rows > MAX_SHEET_ROWS:
            raise too_large(self.filename, f"行数超过 {MAX_SHEET_ROWS} 行（{LIMITS}）")
        out: list[str] = []
        for value in values:
            if len(out) >= MAX_COLUMNS:
                if value is None or value == "":
                    continue
                raise too_large(
                    self.filename,
                    f"第 {self.rows} 行有内容超过 {get_column_letter(MAX_COLUMNS)} 列（{LIMITS}）",
                )
            out.append(self._one(value))
        self.cells += len(out)
        if self.cells > MAX_CELLS:
            raise too_large(self.filename, f"单元格超过 {MAX_CELLS} 个（{LIMITS}）")
        return out

    def _one(self, value: Any) -> str:
        if value is None:
            return ""
        key = (type(value), value)
        found = self.seen.get(key)
        if found is None:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise too_large(
                    self.filename,
                    f"第 {self.rows} 行有一个单元格超过 {MAX_CELL_CHARS} 个字",
                )
            found = self.seen[key] = self.text(value)
        return found


def xlsx_table(content: bytes, filename: str, text: Callable[[Any], str]) -> list[list[str]]:
    """The first sheet's rows as text, after :func:`check_xlsx`."""
    from openpyxl import load_workbook

    merged = check_xlsx(content, filename)
    cells = _Cells(filename, text)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception as error:  # openpyxl fails on a malformed file in many ways
        raise unreadable(NOT_XLSX) from error
    try:
        sheet = book.worksheets[0]
        reset = getattr(sheet, "reset_dimensions", None)
        if reset is not None:  # rows only as wide as their cells, whatever was declared
            reset()
        table = [cells.row(values) for values in sheet.iter_rows(values_only=True)]
        path = str(getattr(sheet, "_worksheet_path", "")).lstrip("/")
        ranges = []
        for ref in merged.get(path, []):
            try:
                min_col, min_row, max_col, max_row = range_boundaries(ref.upper())
            except (ValueError, TypeError):
                continue  # openpyxl would not read such a range either
            ranges.append((min_row or 1, max_row or min_row or 1, min_col or 1, max_col or 1))
        return fill_merged(table, ranges, cells)
    except ValidationFailed:
        raise
    except Exception as error:
        raise unreadable(NOT_XLSX) from error
    finally:
        book.close()


def fill_merged(
    table: list[list[str]], ranges: Iterable[tuple[int, int, int, int]], cells: _Cells
) -> list[list[str]]:
    """Every cell of a merged range holds what Excel shows there: its top-left value (a
    township merged down 20 rows is the township of each). Ranges are (first row, last
    row, first column, last column), from 1 and inclusive; clipped to the rows read and
    to ``MAX_COLUMNS``; the cells they add, and the cells they fill (ranges may overlap
    in a crafted file), counted against ``MAX_CELLS``."""
    filled = 0
    for first_row, last_row, first_column, last_column in ranges:
        if first_row > len(table) or first_column > MAX_COLUMNS:
            continue
        top = table[first_row - 1]
        value = top[first_column - 1] if first_column <= len(top) else ""
        last_column = min(last_column, MAX_COLUMNS)
        for row in table[first_row - 1 : min(last_row, len(table))]:
            if len(row) < last_column:
                cells.cells += last_column - len(row)
                if cells.cells > MAX_CELLS:
                    raise too_large(cells.filename, f"单元格超过 {MAX_CELLS} 个（{LIMITS}）")
                row.extend([""] * (last_column - len(row)))
            filled += last_column - first_column + 1
            if filled > MAX_CELLS:
                raise too_large(cells.filename, f"合并的单元格超过 {MAX_CELLS} 个（{LIMITS}）")
            row[first_column - 1 : last_column] = [value] * (last_column - first_column + 1)
    return table


MAX_LINE_CHARS = MAX_COLUMNS * (2 * MAX_CELL_CHARS + 3)
"""The longest line a .csv row within the limits can take (every cell quoted, every
character a doubled quote): a longer line is refused before it is split into fields."""


def _lines(text: str, filename: str) -> Iterable[str]:
    for line in io.StringIO(text, newline=""):
        if len(line) > MAX_LINE_CHARS:
            raise too_large(
                filename,
                f"有一行超过 {MAX_LINE_CHARS} 个字符（{LIMITS}，每格最多 {MAX_CELL_CHARS} 个字）",
            )
        yield line


def csv_table(text: str, filename: str, cell: Callable[[Any], str]) -> list[list[str]]:
    """The rows of a decoded .csv file, counted as they are read."""
    cells = _Cells(filename, cell)
    try:
        return [cells.row(values) for values in csv.reader(_lines(text, filename))]
    except csv.Error as error:
        if "field limit" in str(error):  # a quoted cell running on over many lines
            raise too_large(filename, f"有一个单元格超过 {MAX_CELL_CHARS} 个字") from error
        raise unreadable("无法读取这个 CSV 文件，请检查引号是否成对") from error


XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""An OLE2 compound file: an Excel 97–2003 workbook (or an .xlsx with a password)."""
MAX_XLS_BYTES = 2 * 1024 * 1024
"""An old .xls as uploaded (a 5 000-person roster saved as .xls is about 400 KB)."""
NOT_XLS = (
    "无法读取这个 .xls 文件（可能已损坏、设置了密码，或其实是网页格式），"
    "请在 Excel 或 WPS 中打开，另存为 .xlsx 后再导入"
)
_CELL_RECORDS = {0x0006, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E, 0x0201, 0x00D6}
"""BIFF8 records of one cell (FORMULA, LABELSST, NUMBER, LABEL, BOOLERR, RK, BLANK,
RSTRING): row and column are their first two 16-bit numbers."""
_MULTI_CELL_RECORDS = {0x00BD, 0x00BE}
_MERGED_CELLS = 0x00E5
"""MERGEDCELLS: a count, then each range's first and last row, first and last column."""
"""MULRK and MULBLANK: a row, its first column, …, its last column (the record's end)."""


def is_xls(content: bytes, filename: str) -> bool:
    """By the content first (an .xlsx renamed .xls is still a ZIP), then by the name."""
    if content[:4] == b"PK\x03\x04":
        return False
    return content[:8] == XLS_MAGIC or filename.lower().endswith(".xls")


def _check_biff(stream: bytes, filename: str, starts: Iterable[int] = (0,)) -> None:
    """Every cell record of the workbook stream's sheets against the limits, before xlrd
    builds its rows: a 14-byte record can place a cell at row 65 535, column 255, and
    xlrd's rows are as long as their last cell (memory for 16 million cells from 1 MB).
    Each sheet is walked from where the workbook says it starts (``starts``), as xlrd
    reads it, up to its EOF record; the cells of all sheets are counted together."""
    import struct

    count = 0
    for start in starts:
        position = max(start, 0)
        while position + 4 <= len(stream):
            code, length = struct.unpack_from("<HH", stream, position)
            data = stream[position + 4 : position + 4 + length]
            position += 4 + length
            if code == 0x000A and start:  # EOF: the end of this sheet
                break
            if code == _MERGED_CELLS and len(data) >= 2:
                # xlrd makes the sheet as long as its last merged range: a range's last
                # row and column are held to the limits like a cell's.
                (ranges,) = struct.unpack_from("<H", data)
                ends = [
                    struct.unpack_from("<HHHH", data, 2 + 8 * n)
                    for n in range(min(ranges, (len(data) - 2) // 8))
                ]
                row = max((e[1] for e in ends), default=0)
                first = last = max((e[3] for e in ends), default=0)
            elif code in _CELL_RECORDS and len(data) >= 4:
                row, first = struct.unpack_from("<HH", data)
                last = first
            elif code in _MULTI_CELL_RECORDS and len(data) >= 6:
                row, first = struct.unpack_from("<HH", data)
                (last,) = struct.unpack_from("<H", data, len(data) - 2)
            else:
                continue
            if row >= MAX_SHEET_ROWS:
                raise too_large(filename, f"行数超过 {MAX_SHEET_ROWS} 行（{LIMITS}）")
            if max(first, last) >= MAX_COLUMNS:
                raise too_large(
                    filename,
                    f"第 {row + 1} 行有内容超过 {get_column_letter(MAX_COLUMNS)} 列（{LIMITS}）",
                )
            if code != _MERGED_CELLS:
                count += max(last - first + 1, 1)
            if count > MAX_CELLS:
                raise too_large(filename, f"单元格超过 {MAX_CELLS} 个（{LIMITS}）")


def xls_table(content: bytes, filename: str, text: Callable[[Any], str]) -> list[list[str]]:
    """The first sheet of an Excel 97–2003 workbook as text (xlrd), merged ranges read as
    their top-left value, within the same limits as an .xlsx and 2 MB as uploaded."""
    import xlrd

    if len(content) > MAX_XLS_BYTES:
        raise too_large(
            filename,
            f"文件有 {len(content) / 1024 / 1024:.1f} MB，.xls 文件一次最多导入 "
            f"{MAX_XLS_BYTES // 1024 // 1024} MB（另存为 .xlsx 可导入更多）",
        )
    cells = _Cells(filename, text)
    try:
        book = xlrd.open_workbook(
            file_contents=content,
            on_demand=True,  # only the first sheet is read
            formatting_info=True,  # for the merged ranges
            ragged_rows=True,  # rows as long as their own cells
            logfile=io.StringIO(),
        )
    except Exception as error:  # xlrd fails on a broken file in many ways
        raise unreadable(NOT_XLS) from error
    try:
        _check_biff(book.mem or b"", filename, getattr(book, "_sh_abs_posn", None) or (0,))
        if book.nsheets < 1:
            raise unreadable("这个 .xls 文件里没有工作表")
        sheet = book.sheet_by_index(0)
        table = [
            cells.row(_xls_value(sheet.cell(r, c), book) for c in range(sheet.row_len(r)))
            for r in range(sheet.nrows)
        ]
        ranges = [(rlo + 1, rhi, clo + 1, chi) for rlo, rhi, clo, chi in sheet.merged_cells]
        return fill_merged(table, ranges, cells)
    except ValidationFailed:
        raise
    except Exception as error:
        raise unreadable(NOT_XLS) from error
    finally:
        book.release_resources()


def _xls_value(cell: Any, book: Any) -> Any:
    """A cell's value as openpyxl would give it: dates as dates, booleans as booleans."""
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    return cell.value
