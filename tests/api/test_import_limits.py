"""Imports bounded before they are parsed (issue 23, item 4): the four files an attacker
sent (a range declared as A1:XFD3000, a deflate bomb of 3 million cells in one row, XXE
reading a file on the server, billion laughs) are each a 422 with its code naming the
file, through the API, the page and the command line, and nothing is imported; a file
that lies about its range is stopped by what it holds; .csv gets the same limits; and
while a file is being read, other clients keep being answered."""

from __future__ import annotations

import asyncio
import io
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from litestar import Litestar

from deliberation import account_import
from deliberation.tables import Account, SecurityEvent
from tests.api.test_import import send, xlsx
from tests.api.test_sessions_end import page_client
from tests.cli import run_cli
from tests.conftest import client_from
from tests.world import World, unique

SHEET = "xl/worksheets/sheet1.xml"
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def with_sheet(sheet: bytes | Callable[[IO[bytes]], None]) -> bytes:
    """A real workbook (as openpyxl saves it) whose first sheet's XML is ``sheet`` (or is
    written by it, for parts too big to hold)."""
    plain = zipfile.ZipFile(io.BytesIO(xlsx([], header=["姓名", "角色", "乡镇"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for part in plain.infolist():
            if part.filename != SHEET:
                book.writestr(part, plain.read(part))
                continue
            with book.open(SHEET, "w", force_zip64=True) as written:
                if callable(sheet):
                    sheet(written)
                else:
                    written.write(sheet)
    return out.getvalue()


def text_cells(row: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{"ABC"[i]}{row}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{row}">{cells}</row>'


def declared_range() -> bytes:
    """1.7 KB read as 3 000 rows × 16 384 columns: the range it declares, and a cell in
    its last row (openpyxl filled every row in between to the declared width)."""
    return with_sheet(
        f'<worksheet {MAIN}><dimension ref="A1:XFD3000"/><sheetData>'
        f"{text_cells(1, ['姓名', '角色', '乡镇'])}"
        '<row r="3000"><c r="A3000"><v>1</v></c></row></sheetData></worksheet>'.encode()
    )


def deflate_bomb(cells: int = 3_000_000) -> bytes:
    """One row of ``cells`` cells: 45 MB of XML packed into about 90 KB."""

    def write(out: IO[bytes]) -> None:
        out.write(f'<worksheet {MAIN}><dimension ref="A1:C2"/><sheetData><row r="1">'.encode())
        chunk = b"<c><v>1</v></c>" * 10_000
        for _ in range(cells // 10_000):
            out.write(chunk)
        out.write(b"</row></sheetData></worksheet>")

    return with_sheet(write)


def xxe(path: Path, township: str) -> bytes:
    """A name read from a file on the server through an external entity."""
    return with_sheet(
        '<?xml version="1.0"?>'
        f'<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file://{path}">]>'
        f"<worksheet {MAIN}><sheetData>"
        f"{text_cells(1, ['姓名', '角色', '乡镇'])}"
        f"{text_cells(2, ['&secret;', '工作人员', township])}"
        "</sheetData></worksheet>".encode()
    )


def billion_laughs() -> bytes:
    """Ten entities, each ten of the one before: 10⁹ "lol"s (3 GB) from 1 KB."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    return with_sheet(
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
        f"<worksheet {MAIN}><sheetData>"
        f"{text_cells(1, ['姓名', '角色', '乡镇'])}"
        f"{text_cells(2, ['&lol9;', '工作人员', '甲镇'])}"
        "</sheetData></worksheet>".encode()
    )


HOSTILE: dict[str, tuple[str, str]] = {
    # file: (code, what the detail says was passed)
    "declared_range": ("file_too_large", "A1:XFD3000（3000 行、16384 列）"),
    "deflate_bomb": ("file_too_large", "解压后有 43 MB，最多 10 MB"),
    "xxe": ("unsafe_file", "文档类型定义（DTD）"),
    "billion_laughs": ("unsafe_file", "文档类型定义（DTD）"),
}


def hostile(kind: str, secret: Path, township: str) -> bytes:
    if kind == "declared_range":
        return declared_range()
    if kind == "deflate_bomb":
        return deflate_bomb()
    if kind == "xxe":
        return xxe(secret, township)
    return billion_laughs()


def secret_file(folder: Path) -> tuple[Path, str]:
    """A file on the server an XXE would read, with a word that must never come back."""
    word = unique("SECRET-")
    path = folder / "secret.txt"
    path.write_text(word)
    return path, word


async def imported_so_far() -> tuple[int, int]:
    return (
        await Account.count(),
        await SecurityEvent.count().where(SecurityEvent.kind == "accounts.imported"),
    )


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_a_hostile_spreadsheet_is_a_422_naming_the_file_and_nothing_is_imported(
    world: World, tmp_path: Path, kind: str
) -> None:
    secret, word = secret_file(tmp_path)
    content = hostile(kind, secret, world.a.name)
    before = await imported_so_far()
    for params in ({"dry_run": "true"}, {}):
        answer = await send(world, content, "代表名单.xlsx", **params)
        assert answer.status_code == 422, answer.text[:500]
        assert answer.headers["content-type"].startswith("application/problem+json")
        body = answer.json()
        code, passed = HOSTILE[kind]
        assert body["code"] == code, body
        assert "“代表名单.xlsx”" in body["detail"] and passed in body["detail"], body
        assert body["errors"][0]["field"] == "file"
        assert word not in answer.text
    assert await imported_so_far() == before
    assert await Account.count().where(Account.display_name.like(f"%{word}%")) == 0


def rows_beyond_the_declared_range(rows: int) -> bytes:
    """A sheet declaring A1:C2 that holds ``rows`` rows."""

    def write(out: IO[bytes]) -> None:
        out.write(f'<worksheet {MAIN}><dimension ref="A1:C2"/><sheetData>'.encode())
        out.write(text_cells(1, ["姓名", "角色", "乡镇"]).encode())
        for n in range(2, rows + 1):
            out.write(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>'.encode())
        out.write(b"</sheetData></worksheet>")

    return with_sheet(write)


def columns_beyond_the_declared_range() -> bytes:
    """A sheet declaring A1:C2 whose second row has a cell in column BA (53)."""
    return with_sheet(
        f'<worksheet {MAIN}><dimension ref="A1:C2"/><sheetData>'
        f"{text_cells(1, ['姓名', '角色', '乡镇'])}"
        '<row r="2"><c r="A2"><v>1</v></c><c r="BA2"><v>1</v></c></row>'
        "</sheetData></worksheet>".encode()
    )


def size_that_lies() -> bytes:
    """The ZIP directory says the sheet unpacks to 100 bytes; it unpacks to 7.5 MB."""
    plain = zipfile.ZipFile(io.BytesIO(xlsx([], header=["姓名", "角色", "乡镇"])))
    sheet = (
        f'<worksheet {MAIN}><sheetData><row r="1">'.encode()
        + b"<c><v>1</v></c>" * 500_000
        + b"</row></sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for part in plain.infolist():
            book.writestr(part.filename, sheet if part.filename == SHEET else plain.read(part))
    content = bytearray(out.getvalue())
    at = content.find(b"PK\x01\x02")  # the central directory's entries
    while at != -1:
        name_length = int.from_bytes(content[at + 28 : at + 30], "little")
        if content[at + 46 : at + 46 + name_length] == SHEET.encode():
            content[at + 24 : at + 28] = (100).to_bytes(4, "little")  # uncompressed size
            return bytes(content)
        at = content.find(b"PK\x01\x02", at + 4)
    raise AssertionError("no sheet in the directory")


async def test_what_a_file_holds_is_counted_whatever_it_declares(world: World) -> None:
    before = await imported_so_far()
    for content, code, words in (
        (rows_beyond_the_declared_range(10_001), "file_too_large", "行数超过 10000 行"),
        (columns_beyond_the_declared_range(), "file_too_large", "第 2 行有内容超过 AX 列"),
        # A bomb under the unpacked limit: the ratio to its packed size gives it away.
        (deflate_bomb(500_000), "file_too_large", "倍"),
        (size_that_lies(), "validation_error", "无法读取"),
    ):
        answer = await send(world, content, "名单.xlsx", dry_run="true")
        assert answer.status_code == 422, answer.text[:500]
        assert answer.json()["code"] == code, answer.text[:500]
        assert words in answer.json()["detail"], answer.json()["detail"]
    assert await imported_so_far() == before


async def test_a_csv_file_has_the_same_limits(world: World) -> None:
    header = "姓名,角色,乡镇\r\n"
    row = f"张三,工作人员,{world.a.name}\r\n"
    before = await imported_so_far()
    for text, words in (
        (header + row * 10_000, "行数超过 10000 行"),
        (header.rstrip() + ",x" * 48 + "\r\n" + row, "超过 AX 列"),
        (header + "张" * 501 + ",工作人员,甲镇\r\n", "超过 500 个字"),
        (header + "," * 1_000_000 + "\r\n", "有一行超过"),
        (header + '"' + "张\r\n" * 200_000 + '"\r\n', "超过 500 个字"),
    ):
        answer = await send(world, text.encode(), "名单.csv", dry_run="true")
        assert answer.status_code == 422, answer.text[:500]
        body = answer.json()
        assert body["code"] == "file_too_large" and "“名单.csv”" in body["detail"], body
        assert words in body["detail"], body["detail"]
    assert await imported_so_far() == before


def roster(world: World, rows: int, prefix: str) -> bytes:
    """A real roster as large as the limits mean to allow: 5 000 people, with 序号 and
    备注 beside the template's columns."""
    village = world.a.villages[0]["name"]
    return xlsx(
        [
            [i + 1, f"{prefix}{i:04d}", "", "村民代表", world.a.name, village, "", "备注"]
            for i in range(rows)
        ],
        header=["序号", "姓名", "用户名", "角色", "乡镇", "村(社区)", "手机号", "备注"],
    )


async def test_other_clients_are_answered_while_an_import_is_read(
    world: World, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is held at the start of its reading until another client's ``/healthz``
    has been answered: if reading ran on the event loop, nobody could be answered until
    the hold gave up (the import would then finish first)."""
    loop = asyncio.get_running_loop()
    reading = asyncio.Event()
    answered = threading.Event()
    released_by: list[str] = []
    read_rows = account_import.read_rows

    def held_read_rows(content: bytes, filename: str) -> Any:
        loop.call_soon_threadsafe(reading.set)
        released_by.append("healthz" if answered.wait(timeout=30) else "timeout")
        return read_rows(content, filename)

    monkeypatch.setattr(account_import, "read_rows", held_read_rows)
    content = roster(world, 5000, unique("并")[-6:])
    importing = asyncio.create_task(send(world, content, "名单.xlsx", dry_run="true"))
    await reading.wait()
    async with client_from(app) as other:
        health = await other.get("/healthz")
    assert health.status_code == 200
    assert not importing.done()  # answered while the import was being read
    answered.set()
    imported = await importing
    assert released_by == ["healthz"]
    assert imported.status_code == 200, imported.text[:500]
    assert imported.json()["rows"] == 5000 and imported.json()["errors"] == []


async def test_the_page_and_the_command_line_refuse_them_too(
    world: World, app: Litestar, database_url: str, tmp_path: Path
) -> None:
    secret, word = secret_file(tmp_path)
    admin = await page_client(app, world.admin.user["username"])
    before = await imported_so_far()
    for kind, (_, passed) in HOSTILE.items():
        content = hostile(kind, secret, world.a.name)
        page = await admin.post(
            "/admin/import",
            data={"action": "import"},
            files={"file": ("名单.xlsx", content, "application/octet-stream")},
        )
        assert page.status_code == 422, page.text[-1000:]
        assert passed in page.text and word not in page.text
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(content)
        done = run_cli(database_url, "user", "import", str(path))
        assert done.returncode == 1, done.stdout + done.stderr
        assert passed in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert word not in done.stdout + done.stderr
    assert await imported_so_far() == before
