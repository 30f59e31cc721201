"""Importing accounts from a spreadsheet (issue 14, item 3): .xlsx and .csv (UTF-8 and
GB 18030), a dry run naming every bad row and column, all rows or none, usernames made
from pinyin, first passwords that work once and must be changed, the printable sheet,
and a 2 000-row file."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pdfplumber
from openpyxl import Workbook, load_workbook

from deliberation.tables import Account, SecurityEvent
from tests.cli import run_cli
from tests.world import World, unique

HEADER = ["序号", "姓名", "用户名", "角色", "乡镇", "村(社区)", "手机号"]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def representatives(world: World, n: int, prefix: str) -> list[list[Any]]:
    """``n`` representatives of township A's two villages, usernames left empty."""
    villages = [v["name"] for v in world.a.villages]
    return [
        [
            i + 1,
            f"{prefix}{i:03d}",
            "",
            "村（居）民代表",
            world.a.name,
            villages[i % 2],
            13800000000 + i,
        ]
        for i in range(n)
    ]


async def send(world: World, content: bytes, name: str, **params: Any) -> Any:
    return await world.admin.client.post(
        "/api/v1/users/import",
        params=params,
        files={"file": (name, content, "application/octet-stream")},
        headers=world.admin.headers,
    )


async def test_the_template_opens_in_excel_with_the_columns(world: World) -> None:
    answer = await world.admin.get("/api/v1/users/import-template.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["姓名", "用户名", "角色", "乡镇", "村（社区）", "手机号"]
    csv_template = await world.admin.get("/api/v1/users/import-template.csv")
    assert csv_template.content.startswith("\ufeff姓名,用户名".encode())
    assert (await world.a["staff"].get("/api/v1/users/import-template.xlsx")).status_code == 403


async def test_a_dry_run_names_every_bad_row_and_writes_nothing(world: World) -> None:
    prefix = unique("代表")[-6:]
    rows = representatives(world, 30, prefix)
    rows[4][3] = "代表员"  # row 6: a role nobody knows
    rows[11][5] = "不存在村"  # row 13: a village not in the township
    rows[20][6] = "1380000"  # row 22: a phone number too short
    before = await Account.count()
    checked = await send(world, xlsx(rows), "代表名单.xlsx", dry_run="true")
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["dry_run"] is True and body["rows"] == 30 and body["created"] == []
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (6, "角色"),
        (13, "村（社区）"),
        (22, "手机号"),
    ]
    assert "代表员" in body["errors"][0]["message"]
    assert len(body["checked"]) == 27
    # The real run with the same file writes nothing either: all rows or none.
    refused = await send(world, xlsx(rows), "代表名单.xlsx")
    assert refused.json()["created"] == [] and len(refused.json()["errors"]) == 3
    assert await Account.count() == before


async def test_thirty_representatives_in_one_go_with_first_passwords(world: World) -> None:
    prefix = unique("代表")[-6:]
    rows = representatives(world, 30, prefix)
    rows[0][1] = "王建华"  # usernames from pinyin, numbered when taken
    rows[1][1] = "王建华"
    rows[2][2] = unique("given")  # a username given in the file is kept
    answer = await send(world, xlsx(rows), "代表名单.xlsx")
    assert answer.status_code == 200, answer.text
    created = answer.json()["created"]
    assert len(created) == 30 and answer.json()["errors"] == []
    names = [c["username"] for c in created]
    assert names[0].startswith("wangjianhua") and names[1].startswith("wangjianhua")
    assert names[0] != names[1]
    assert names[2] == rows[2][2] and not created[2]["username_made"]
    assert all(c["first_password"] for c in created)
    assert created[5]["phone"] == "13800000005"
    stored = await Account.select().where(Account.username.is_in(names))
    assert len(stored) == 30
    assert all(r["must_change_password"] and r["role"] == "representative" for r in stored)
    # A first password signs in once, to choose a new one.
    first = created[3]
    token = await world.client.post(
        "/api/v1/auth/token",
        json={"username": first["username"], "password": first["first_password"]},
    )
    assert token.status_code == 200 and token.json()["must_change_password"] is True
    logged = await SecurityEvent.count().where(
        (SecurityEvent.kind == "account.created") & SecurityEvent.username.is_in(names)
    )
    assert logged == 30
    # The same file again: every username is now taken.
    again = await send(world, xlsx(rows[2:3]), "again.xlsx", dry_run="true")
    assert again.json()["errors"][0]["field"] == "用户名"


async def test_csv_saved_by_excel_on_a_chinese_windows_is_gb18030(world: World) -> None:
    prefix = unique("gb")[-6:]
    village = world.a.villages[0]["name"]
    text = "姓名,角色,乡镇,村(社区)\r\n"
    text += f"{prefix}李秀英,村民代表,{world.a.name},{village}\r\n"
    text += f"{prefix}赵德胜,工作人员,{world.a.name},\r\n"
    for encoding, suffix in (("gb18030", "gb"), ("utf-8-sig", "bom")):
        renamed = text.replace(prefix, prefix + suffix)
        answer = await send(world, renamed.encode(encoding), "名单.csv")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["errors"] == [], body["errors"]
        assert [c["display_name"] for c in body["created"]] == [
            f"{prefix}{suffix}李秀英",
            f"{prefix}{suffix}赵德胜",
        ]
        assert [c["role"] for c in body["created"]] == ["representative", "staff"]


async def test_bad_files_and_callers_are_refused_in_plain_words(world: World) -> None:
    for content, name, words in (
        (b"", "a.csv", "文件是空的"),
        (b"PK\x03\x04not really a zip", "a.xlsx", "无法读取"),
        ("名字,岗位\r\n张三,代表\r\n".encode(), "a.csv", "缺少这些列"),
        ("姓名,角色,乡镇\r\n".encode(), "a.csv", "表头下面没有数据"),
        (b"\xff\xfe\x00\x00bad", "a.csv", "编码"),
    ):
        answer = await send(world, content, name)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["errors"][0]["field"] == "file"
        assert words in answer.json()["errors"][0]["message"], answer.text
    no_file = await world.admin.client.post(
        "/api/v1/users/import", data={"x": "1"}, headers=world.admin.headers
    )
    assert no_file.status_code in (400, 422)
    staff = await world.a["staff"].client.post(
        "/api/v1/users/import",
        files={"file": ("a.csv", b"x", "text/csv")},
        headers=world.a["staff"].headers,
    )
    assert staff.status_code == 403


async def test_the_printable_sheet_lists_usernames_and_first_passwords(world: World) -> None:
    prefix = unique("单")[-6:]
    answer = await send(world, xlsx(representatives(world, 3, prefix)), "a.xlsx", format="pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    with pdfplumber.open(io.BytesIO(answer.content)) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "账号和初始密码名单" in text
    rows = await Account.select(Account.username).where(Account.display_name.like(f"{prefix}%"))
    assert len(rows) == 3 and all(r["username"] in text for r in rows)


async def test_two_thousand_rows(world: World) -> None:
    prefix = unique("批")[-6:]
    answer = await send(world, xlsx(representatives(world, 2000, prefix)), "big.xlsx")
    assert answer.status_code == 200, answer.text[-1000:]
    assert len(answer.json()["created"]) == 2000
    assert await Account.count().where(Account.display_name.like(f"{prefix}%")) == 2000


async def test_the_command_line_checks_imports_and_prints_the_sheet(
    world: World, database_url: str, tmp_path: Path
) -> None:
    prefix = unique("cli")[-6:]
    village = world.a.villages[1]["name"]
    good = tmp_path / "名单.csv"
    good.write_bytes(
        (
            "姓名,角色,乡镇,村(社区)\r\n"
            f"{prefix}周桂兰,村民代表,{world.a.name},{village}\r\n"
            f"{prefix}吴国强,联络员,{world.a.name},\r\n"
        ).encode("gb18030")
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(f"姓名,角色,乡镇\r\n{prefix}某,主任,{world.a.name}\r\n".encode())
    refused = run_cli(database_url, "user", "import", str(bad))
    assert refused.returncode == 1
    assert "第 2 行「角色」" in refused.stderr and "没有导入任何账号" in refused.stderr
    checked = run_cli(database_url, "user", "import", str(good), "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert "检查通过：2 行" in checked.stdout
    assert await Account.count().where(Account.display_name.like(f"{prefix}%")) == 0
    sheet = tmp_path / "sheet.pdf"
    done = run_cli(database_url, "user", "import", str(good), "--sheet", str(sheet))
    assert done.returncode == 0, done.stderr
    assert await Account.count().where(Account.display_name.like(f"{prefix}%")) == 2
    with pdfplumber.open(sheet) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    printed = re.findall(r"用户名 (\S+)  初始密码 (\S+)", done.stdout)
    assert len(printed) == 2
    for username, password in printed:  # each as printed once on the terminal
        assert username in text and password in text


async def test_village_cadres_are_imported_and_offered_in_the_template(world: World) -> None:
    """村干部 (issue 26): the template's 角色 drop-down offers it; a row with 角色=村干部
    makes a village cadre of that village; without a village the row is refused."""
    answer = await world.admin.get("/api/v1/users/import-template.xlsx")
    book = load_workbook(io.BytesIO(answer.content))
    sheet, options = book.worksheets[0], book.worksheets[1]
    (roles,) = [v for v in sheet.data_validations.dataValidation if "C2" in str(v.sqref)]
    last = int(roles.formula1.rsplit("$", 1)[1])
    offered = [options.cell(row=n, column=1).value for n in range(2, last + 1)]
    assert "村干部" in offered, offered
    village = world.a.villages[0]["name"]
    name = unique("村干部")[-6:]
    rows = [
        [1, name, "", "村干部", world.a.name, village, ""],
        [2, name + "乙", "", "村干部", world.a.name, "", ""],
    ]
    checked = (await send(world, xlsx(rows), "村干部.xlsx", dry_run="true")).json()
    assert [(e["row"], e["field"]) for e in checked["errors"]] == [(3, "村（社区）")]
    assert "村干部必须填写所属村（社区）" in checked["errors"][0]["message"]
    made = await send(world, xlsx(rows[:1]), "村干部.xlsx")
    assert made.status_code == 200, made.text
    (created,) = made.json()["created"]
    stored = await Account.select().where(Account.username == created["username"]).first()
    assert stored is not None and stored["role"] == "village_cadre"
    assert stored["village"] == world.a.villages[0]["id"]
