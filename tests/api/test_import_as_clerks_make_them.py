"""Spreadsheets as clerks make them (issue 25): a title row above the header, the
township merged down its rows, an old Excel 97–2003 .xls; the template's example row is
flagged by 检查 and its 角色 and 乡镇 columns are drop-downs."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path
from typing import Any

from litestar import Litestar
from openpyxl import Workbook, load_workbook

from deliberation.tables import Account, Township
from tests.api.test_import import send
from tests.api.test_sessions_end import page_client
from tests.world import World, unique

FILES = Path(__file__).with_name("files")
HEADER = ["序号", "姓名", "角色", "乡镇", "村（社区）", "手机号", "备注"]


def book_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def people(world: World, prefix: str, n: int, township: str | None = None) -> list[list[Any]]:
    villages = [v["name"] for v in world.a.villages]
    return [
        [i + 1, f"{prefix}{i}", "村（居）民代表", township, villages[i % 2], 13700000000 + i, ""]
        for i in range(n)
    ]


async def imported(world: World, content: bytes, name: str) -> list[dict[str, Any]]:
    """The file checked, then imported: what was created (every row, no problem)."""
    checked = await send(world, content, name, dry_run="true")
    assert checked.status_code == 200, checked.text
    assert checked.json()["errors"] == [], checked.json()["errors"]
    done = await send(world, content, name)
    assert done.status_code == 200, done.text
    created: list[dict[str, Any]] = done.json()["created"]
    assert all(c["first_password"] for c in created)
    return created


async def test_a_title_row_above_the_header_is_passed_over(world: World) -> None:
    # Refused before with "第 1 行应是表头".
    prefix = unique("标题")[-6:]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([f"{world.a.name}村（居）民代表名单"])
    sheet.merge_cells("A1:G1")
    sheet.append(["填表日期：2026年12月1日"])
    sheet.append([])
    sheet.append(HEADER)
    for row in people(world, prefix, 3, world.a.name):
        sheet.append(row)
    created = await imported(world, book_bytes(book), "代表名单.xlsx")
    assert [c["display_name"] for c in created] == [f"{prefix}{i}" for i in range(3)]
    assert [c["row"] for c in created] == [5, 6, 7]  # the rows as Excel numbers them
    assert {c["township_name"] for c in created} == {world.a.name}
    assert created[2]["phone"] == "13700000002"


async def test_a_header_merged_across_two_columns_keeps_the_value_given(world: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "角色", "乡镇", "村（社区）", None])
    sheet.merge_cells("D1:E1")  # 村（社区） over two columns: the village, then a note
    village = world.a.villages[0]["name"]
    name = unique("表头")[-6:]
    sheet.append([name, "村（居）民代表", world.a.name, village, None])
    answer = await send(world, book_bytes(book), "两列.xlsx", dry_run="true")
    assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
    assert answer.json()["checked"][0]["village_name"] == village


async def test_an_xlsx_named_xls_is_read_as_what_it_is(world: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(people(world, unique("改名")[-6:], 1, world.a.name)[0])
    answer = await send(world, book_bytes(book), "改了名字.xls", dry_run="true")
    assert answer.status_code == 200, answer.text
    assert answer.json()["errors"] == [] and len(answer.json()["checked"]) == 1


async def test_a_header_nowhere_near_the_top_names_what_it_lacks(world: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名单"])
    sheet.append(["姓名", "岗位", "乡镇"])
    answer = await send(world, book_bytes(book), "名单.xlsx", dry_run="true")
    assert answer.status_code == 422
    message = answer.json()["errors"][0]["message"]
    assert "找不到表头" in message and "第 2 行缺少这些列：角色" in message


async def test_a_township_merged_down_its_rows_is_read_as_excel_shows_it(world: World) -> None:
    # Refused before: every row but the first had "没有填写乡镇".
    prefix = unique("合并")[-6:]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in people(world, prefix, 4):
        sheet.append(row)
    sheet["D2"] = world.a.name
    sheet.merge_cells("D2:D5")
    created = await imported(world, book_bytes(book), "合并.xlsx")
    assert [(c["display_name"], c["township_name"]) for c in created] == [
        (f"{prefix}{i}", world.a.name) for i in range(4)
    ]
    stored = await Account.select(Account.township).where(Account.display_name.like(f"{prefix}%"))
    assert [r["township"] for r in stored] == [world.a.id] * 4


async def township_named(world: World, name: str, villages: tuple[str, ...]) -> int:
    """The township the .xls fixture names (made once for the test database)."""
    found = await Township.select(Township.id).where(Township.name == name).first()
    if found is None:
        made = await world.admin.post("/api/v1/townships", {"name": name})
        assert made.status_code == 201, made.text
        found = made.json()
        for village in villages:
            answer = await world.admin.post(
                "/api/v1/villages", {"name": village, "township_id": found["id"]}
            )
            assert answer.status_code == 201, answer.text
    return int(found["id"])


async def test_an_old_xls_roster_is_imported(world: World) -> None:
    # tests/api/files/roster.xls (made by make_roster_xls.py): a merged title above the
    # header, 黄金埠镇 merged down four rows, phone numbers stored as numbers. Refused
    # before with an encoding message meant for CSV files.
    township = await township_named(world, "黄金埠镇", ("金山村", "银湾村"))
    content = (FILES / "roster.xls").read_bytes()
    assert content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real Excel 97–2003 file
    checked = await send(world, content, "代表名单.xls", dry_run="true")
    assert checked.status_code == 200, checked.text
    assert checked.json()["errors"] == []
    rows = [
        (c["row"], c["display_name"], c["role"], c["township_id"], c["village_name"], c["phone"])
        for c in checked.json()["checked"]
    ]
    assert rows == [
        (3, "李秀英", "representative", township, "金山村", "13900000001"),
        (4, "赵德胜", "representative", township, "银湾村", "13900000002"),
        (5, "钱桂兰", "representative", township, "金山村", ""),
        (6, "孙志强", "staff", township, "", "13900000004"),
    ]
    done = await send(world, content, "代表名单.xls")
    assert done.status_code == 200 and len(done.json()["created"]) == 4, done.text
    names = [c["username"] for c in done.json()["created"]]
    stored = await Account.select(Account.display_name, Account.township).where(
        Account.username.is_in(names)
    )
    assert sorted(r["display_name"] for r in stored) == sorted(r[1] for r in rows)
    assert {r["township"] for r in stored} == {township}


async def test_a_broken_or_oversized_xls_is_refused_with_a_code(world: World) -> None:
    real = (FILES / "roster.xls").read_bytes()
    broken = real[:512] + b"\x00" * 300  # cut short: the OLE2 header and nothing more
    answer = await send(world, broken, "名单.xls", dry_run="true")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "validation_error"
    assert "另存为 .xlsx" in answer.json()["errors"][0]["message"]
    # A web page saved as .xls by another system: the same plain words, not an encoding.
    page = "<html><table><tr><td>姓名</td></tr></table></html>".encode()
    answer = await send(world, page, "导出.xls", dry_run="true")
    assert answer.status_code == 422 and "另存为 .xlsx" in answer.json()["errors"][0]["message"]
    big = real + b"\x00" * (2 * 1024 * 1024)
    answer = await send(world, big, "大.xls", dry_run="true")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "file_too_large"
    assert "2 MB" in answer.json()["detail"]


def test_a_cell_far_out_in_an_xls_is_refused_before_xlrd_builds_its_rows() -> None:
    """A 14-byte NUMBER record at row 60 000 would make xlrd build 60 000 rows; so would a
    merged range ending there (found by feeding xlrd broken copies of roster.xls)."""
    import pytest

    from deliberation import spreadsheets
    from deliberation.errors import FileTooLarge

    record = struct.pack("<HHHHHd", 0x0203, 14, 60_000, 3, 0, 1.0)
    with pytest.raises(FileTooLarge):
        spreadsheets._check_biff(record, "远.xls")
    wide = struct.pack("<HHHH", 0x00BE, 10, 5, 0) + struct.pack("<HHH", 0, 0, 200)
    with pytest.raises(FileTooLarge):
        spreadsheets._check_biff(wide, "宽.xls")
    merged = struct.pack("<HHH", 0x00E5, 10, 1) + struct.pack("<HHHH", 2, 58_629, 3, 3)
    with pytest.raises(FileTooLarge):
        spreadsheets._check_biff(merged, "并.xls")
    spreadsheets._check_biff(
        struct.pack("<HHH", 0x00E5, 10, 1) + struct.pack("<HHHH", 2, 5, 3, 3), "好.xls"
    )
    # A far cell found where the workbook says the sheet starts, after a garbled record.
    garbled = struct.pack("<HH", 0x0809, 300) + record
    spreadsheets._check_biff(garbled, "乱.xls")  # walked from 0: the record is skipped
    with pytest.raises(FileTooLarge):
        spreadsheets._check_biff(garbled, "乱.xls", [4])


async def test_the_template_flags_its_example_row_and_offers_drop_downs(world: World) -> None:
    answer = await world.admin.get("/api/v1/users/import-template.xlsx")
    assert answer.status_code == 200
    content = answer.content
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    assert sheet["A2"].value == "王建华（示例）"
    # 检查 flags the example row: it would never be imported as a person.
    checked = await send(world, content, "import-template.xlsx", dry_run="true")
    assert checked.status_code == 200, checked.text
    errors = checked.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors if e["field"] == "姓名"] == [(2, "姓名")]
    assert "示例行" in errors[0]["message"] and checked.json()["checked"] == []
    csv_checked = await send(
        world, (await world.admin.get("/api/v1/users/import-template.csv")).content, "t.csv"
    )
    assert "示例行" in csv_checked.json()["errors"][0]["message"]
    # Drop-downs for 角色 and 乡镇, their lists on a hidden sheet (long lists work).
    options = book["选项"]
    assert options.sheet_state == "hidden"
    lists = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    role, township = lists["C2:C5001"], lists["D2:D5001"]
    assert role.type == township.type == "list"
    roles = [c[0].value for c in options[role.formula1.split("!")[1].replace("$", "")]]
    assert roles == ["政协委员/联络员", "村（居）民代表", "村干部", "工作人员", "县政协督办"]
    towns = [c[0].value for c in options[township.formula1.split("!")[1].replace("$", "")]]
    assert world.a.name in towns and len(towns) == await Township.count()


async def test_the_import_page_offers_xls_files_and_checks_one(world: World, app: Litestar) -> None:
    admin = await page_client(app, world.admin.user["username"])
    page = await admin.get("/admin/import")
    assert page.status_code == 200
    # The browser's file chooser only shows the kinds the form accepts.
    accept = re.search(r'id="import-file"[^>]*accept="([^"]+)"', page.text)
    assert accept and ".xls," in accept.group(1) + ","
    assert "（.xlsx、.xls 或 .csv）" in page.text
    await township_named(world, "黄金埠镇", ("金山村", "银湾村"))
    checked = await admin.post(
        "/admin/import",
        data={"action": "check"},
        files={
            "file": (
                "代表名单.xls",
                (FILES / "roster.xls").read_bytes(),
                "application/vnd.ms-excel",
            )
        },
    )
    assert checked.status_code == 200, checked.text[-2000:]
    assert "4 行都可以导入" in checked.text
