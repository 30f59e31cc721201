"""Accounts from a spreadsheet (product.md §9 "The county"): a township's
representatives typed once in Excel, not one by one.

The file is ``.xlsx``, an old ``.xls`` (Excel 97–2003) or ``.csv`` (UTF-8, or GB 18030
as Excel on a Chinese Windows saves it) as clerks make it: the header may sit under a
title (it is looked for in the first 10 rows), merged cells read as what Excel shows
(their top-left value). The columns are 姓名, 用户名 (optional: made from the name's
pinyin, or a counter), 角色, 乡镇, 村（社区） and 手机号 (optional); other columns (序号, 备注) are
ignored. Every row is checked before anything is written, and every problem is
reported with its row and column in plain words; then all rows are created in one
transaction, or none. Each new account gets a first password, shown once (and printed
on a sheet for the township office to hand out) and replaced at its first sign-in.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from pypinyin import lazy_pinyin

from deliberation import spreadsheets
from deliberation.accounts import usernames_race
from deliberation.clock import chinese_datetime, utcnow
from deliberation.database import write_transaction
from deliberation.documents.render import RenderJob
from deliberation.documents.renderer import Renderer
from deliberation.errors import AlreadyExists, ValidationFailed
from deliberation.permissions import allowed
from deliberation.schemas import ImportedAccountRead as ImportedAccount
from deliberation.schemas import ImportProblemRead as ImportProblem
from deliberation.schemas import ImportRead
from deliberation.security import hash_first_password, temporary_password
from deliberation.security_log import Actor, log
from deliberation.tables import Account, SecurityEvent, Township, Village
from workflows import ROLE_LABELS
from workflows.declaration import VILLAGE

SHEET_TITLE = "账号和初始密码名单"
MAX_ROWS = 5000
MAX_BYTES = spreadsheets.MAX_BYTES
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")

COLUMNS = ("姓名", "用户名", "角色", "乡镇", "村（社区）", "手机号")
REQUIRED_COLUMNS = ("姓名", "角色", "乡镇")
_COLUMN_ALIASES = {
    "村": "村（社区）",
    "社区": "村（社区）",
    "村/社区": "村（社区）",
    "手机": "手机号",
}

ROLE_NAMES: dict[str, str] = {
    **{label: role for role, label in ROLE_LABELS.items()},
    **{role: role for role in ROLE_LABELS},
    "代表": "representative",
    "村民代表": "representative",
    "居民代表": "representative",
    "联络员": "liaison",
    "政协委员": "liaison",
    "委员": "liaison",
    "督办": "supervisor",
    "村两委": "village_cadre",
    "村两委干部": "village_cadre",
    "村（社区）干部": "village_cadre",
    "社区干部": "village_cadre",
    "管理员": "admin",
}
"""What a clerk may write in 角色 (labels as the pages show them, common short forms,
the English names)."""
IMPORTABLE = ("liaison", "representative", "village_cadre", "staff", "supervisor")
EXAMPLE_MARK = "（示例）"
"""The template's example row is 王建华（示例）: the check flags it, so it is never imported."""
EXAMPLE_ROW = ("王建华" + EXAMPLE_MARK, "", "村（居）民代表", "黄金埠镇", "金山村", "13800000000")


@dataclass
class ImportResult:
    rows: int
    accounts: list[ImportedAccount] = field(default_factory=list)
    """The rows without problems, as they would be (or were) created."""
    errors: list[ImportProblem] = field(default_factory=list)
    created: bool = False


def _cell(value: Any) -> str:
    """A cell as text: numbers as written (a phone number stored as a number has no
    ``.0``), everything trimmed, full-width spaces too."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def _header(name: str) -> str:
    plain = name.replace(" ", "").replace("(", "（").replace(")", "）")
    return _COLUMN_ALIASES.get(plain, plain)


def _csv_text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _file_problem("无法识别文件的编码，请另存为 UTF-8 或 GB 18030 编码的 CSV 文件")


def _file_problem(message: str) -> ValidationFailed:
    return ValidationFailed([{"field": "file", "message": message}])


def read_rows(content: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-empty row under the header, the file
    read within the limits of ``deliberation/spreadsheets.py`` (it blocks: the import runs
    it on a worker thread)."""
    if not content:
        raise _file_problem("文件是空的")
    if len(content) > MAX_BYTES:
        raise spreadsheets.too_large(
            filename, f"文件有 {len(content) / 1024 / 1024:.1f} MB，一次最多导入 5 MB"
        )
    if spreadsheets.is_xls(content, filename):
        table = spreadsheets.xls_table(content, filename, _cell)
    elif content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        table = spreadsheets.xlsx_table(content, filename, _cell)
    else:
        table = spreadsheets.csv_table(_csv_text(content), filename, _cell)
    start, headers = _find_header(table)
    rows = []
    for number, row in enumerate(table[start + 1 :], start=start + 2):
        if not any(row) or [_header(h) for h in row] == headers:
            continue  # empty, or the header again (two header rows merged, blocks pasted)
        values: dict[str, str] = {}
        for i, h in enumerate(headers):
            # A column named twice (a header cell merged across two columns): the first
            # value given counts.
            if h and not values.get(h):
                values[h] = row[i] if i < len(row) else ""
        rows.append((number, values))
    if not rows:
        raise _file_problem("表头下面没有数据")
    if len(rows) > MAX_ROWS:
        raise spreadsheets.too_large(
            filename, f"一次最多导入 {MAX_ROWS} 行，这个文件有 {len(rows)} 行"
        )
    return rows


HEADER_SEARCH_ROWS = 10
"""How far down the header is looked for: clerks put a title (黄金埠镇村民代表名单), a
date or a note above it."""


def _find_header(table: list[list[str]]) -> tuple[int, list[str]]:
    """The first of the first ``HEADER_SEARCH_ROWS`` rows holding every required column
    (its index and its column names), or a problem naming what the likeliest row lacks."""
    candidates = [
        (i, [_header(h) for h in row])
        for i, row in enumerate(table[:HEADER_SEARCH_ROWS])
        if any(row)
    ]
    if not candidates:
        raise _file_problem("文件中没有内容")
    for index, headers in candidates:
        if all(c in headers for c in REQUIRED_COLUMNS):
            return index, headers
    index, headers = max(
        candidates, key=lambda c: (sum(1 for r in REQUIRED_COLUMNS if r in c[1]), -c[0])
    )
    missing = "、".join(c for c in REQUIRED_COLUMNS if c not in headers)
    raise _file_problem(
        f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（应有{'、'.join(REQUIRED_COLUMNS)}这几列）："
        f"第 {index + 1} 行缺少这些列：{missing}（请使用导入模板）"
    )


def _pinyin_name(name: str) -> str:
    letters = "".join(lazy_pinyin(name, errors="ignore")).lower()
    letters = re.sub(r"[^a-z0-9]", "", letters)
    return letters if len(letters) >= 3 else ""


async def check(
    rows: list[tuple[int, dict[str, str]]],
) -> tuple[list[ImportedAccount], list[ImportProblem]]:
    """Every row's problems, and the accounts the good rows would become."""
    townships = {r["name"]: r["id"] for r in await Township.select(Township.id, Township.name)}
    villages = {
        (r["township"], r["name"]): r["id"]
        for r in await Village.select(Village.id, Village.township, Village.name)
    }
    taken = {r["username"].lower() for r in await Account.select(Account.username)}
    problems: list[ImportProblem] = []
    accepted: list[ImportedAccount] = []
    given_at: dict[str, int] = {}

    for number, row in rows:
        found: list[ImportProblem] = []

        def problem(
            column: str, message: str, number: int = number, found: list[ImportProblem] = found
        ) -> None:
            found.append(ImportProblem(row=number, field=column, message=message))

        name = row.get("姓名", "")
        if not name:
            problem("姓名", "没有填写姓名")
        elif len(name) > 100:
            problem("姓名", "姓名太长（最多 100 个字）")
        elif EXAMPLE_MARK in name.replace("(", "（").replace(")", "）"):
            problem("姓名", "这是模板中的示例行，请删除后再导入")
        role_text = row.get("角色", "").replace("(", "（").replace(")", "）")
        role = ROLE_NAMES.get(role_text) or ROLE_NAMES.get(role_text.lower())
        if not role_text:
            problem("角色", "没有填写角色")
        elif role is None:
            choices = "、".join(ROLE_LABELS[r] for r in IMPORTABLE)
            problem("角色", f"不认识角色“{role_text}”，应为：{choices}")
        elif role not in IMPORTABLE:
            problem("角色", "不能导入系统管理员账号，请在“账号”页面逐个新建")
        township_name = row.get("乡镇", "")
        township_id = townships.get(township_name)
        if role == "supervisor":
            if township_name:
                problem("乡镇", "县政协督办不属于任何乡镇，请把乡镇留空")
            township_id = None
        elif not township_name:
            problem("乡镇", "没有填写乡镇")
        elif township_id is None:
            problem("乡镇", f"没有名为“{township_name}”的乡镇，请先在“乡镇和村（社区）”中建立")
        village_name = row.get("村（社区）", "")
        village_id = None
        if village_name and township_id is not None and role != "supervisor":
            village_id = villages.get((township_id, village_name))
            if village_id is None:
                problem("村（社区）", f"{township_name}没有名为“{village_name}”的村（社区）")
        elif role in VILLAGE and not village_name:
            problem("村（社区）", f"{ROLE_LABELS[role]}必须填写所属村（社区）")
        phone = re.sub(r"[\s\-]", "", row.get("手机号", ""))
        if phone and not re.fullmatch(r"1\d{10}", phone):
            problem("手机号", f"手机号“{row.get('手机号', '')}”应为 11 位数字，以 1 开头")
        username = row.get("用户名", "")
        if username:
            if not USERNAME.match(username):
                problem("用户名", "用户名只能用字母、数字、点、下划线或短横线，3 到 64 个字符")
            elif username.lower() in taken:
                problem("用户名", f"用户名“{username}”已被使用")
            elif username.lower() in given_at:
                problem("用户名", f"与第 {given_at[username.lower()]} 行的用户名重复")
            else:
                given_at[username.lower()] = number
        if found:
            problems += found
            continue
        assert role is not None
        accepted.append(
            ImportedAccount(
                row=number,
                display_name=name,
                username=username,
                role=role,
                role_label=ROLE_LABELS[role],
                township_id=township_id,
                township_name=township_name if township_id is not None else "",
                village_id=village_id,
                village_name=village_name if village_id is not None else "",
                phone=phone,
                username_made=not username,
            )
        )
    # Usernames for the rows that left it empty: the name's pinyin, then a number.
    used = taken | set(given_at)
    counter = 0
    for account in accepted:
        if account.username:
            continue
        base = _pinyin_name(account.display_name)
        candidate, n = base, 1
        while not candidate or candidate in used:
            if base:
                n += 1
                candidate = f"{base}{n}"
            else:
                counter += 1
                candidate = f"daibiao{counter:04d}"
        used.add(candidate)
        account.username = candidate
    return accepted, problems


_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="first-passwords")
"""argon2 releases the GIL: first passwords are hashed on both cores."""
_READING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import-reading")
"""Files are read off the event loop, so everyone else keeps being answered; two at a
time at most, so parallel uploads cannot multiply what reading costs."""


async def import_accounts(
    actor: Actor, content: bytes, filename: str, *, dry_run: bool
) -> ImportResult:
    """Check every row; unless ``dry_run``, create them all (or, on any problem, none)."""
    if actor.principal is not None:
        allowed(actor.principal, "account.manage").check()
    loop = asyncio.get_running_loop()
    rows = await loop.run_in_executor(_READING, read_rows, content, filename)
    accounts, problems = await check(rows)
    result = ImportResult(rows=len(rows), accounts=accounts, errors=problems)
    if problems or dry_run:
        return result
    passwords = [temporary_password() for _ in accounts]
    hashes = await asyncio.gather(
        *(loop.run_in_executor(_HASHING, hash_first_password, p) for p in passwords)
    )
    for account, password in zip(accounts, passwords, strict=True):
        account.first_password = password
    now = utcnow()
    async with usernames_race("有用户名刚被使用，请重新检查后再导入"), write_transaction():
        names = [a.username for a in accounts]
        clash = await Account.select(Account.username).where(
            WhereRaw(
                f"lower(account.username) IN ({', '.join(['{}'] * len(names))})",
                *[n.lower() for n in names],
            )
        )
        if clash:  # made by someone else since the check (in any case)
            raise AlreadyExists(f"用户名“{clash[0]['username']}”刚被使用，请重新检查后再导入")
        for chunk in _chunks(list(zip(accounts, hashes, strict=True)), 500):
            await Account.insert(
                *(
                    Account(
                        username=a.username,
                        password_hash=h,
                        display_name=a.display_name,
                        role=a.role,
                        township=a.township_id,
                        village=a.village_id,
                        phone=a.phone,
                        active=True,
                        must_change_password=True,
                        created_at=now,
                    )
                    for a, h in chunk
                )
            )
        ids = {
            r["username"]: r["id"]
            for r in await Account.select(Account.id, Account.username).where(
                Account.username.is_in(names)
            )
        }
        who = actor.principal.id if actor.principal else None
        for chunk in _chunks(accounts, 500):
            await SecurityEvent.insert(
                *(
                    SecurityEvent(
                        created_at=now,
                        kind="account.created",
                        username=a.username,
                        account=ids[a.username],
                        actor=who,
                        client=actor.client[:64],
                        result="ok",
                        detail=f"导入：{a.role_label}",
                    )
                    for a in chunk
                )
            )
        await log("accounts.imported", actor=actor, detail=f"{filename}：{len(accounts)} 个账号")
    result.created = True
    return result


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


OPTIONS_SHEET = "选项"
TEMPLATE_ROWS = MAX_ROWS + 1
"""The drop-downs cover the header and as many rows as one import takes."""


async def template_xlsx() -> bytes:
    """The file to fill in: the columns, an example row the check flags, drop-downs for
    角色 and 乡镇 (the townships as they stand), and how to fill them."""
    townships = [r["name"] for r in await Township.select(Township.name).order_by(Township.name)]
    return _template_book(townships)


def _template_book(townships: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "账号"
    sheet.append(list(COLUMNS))
    sheet.append(list(EXAMPLE_ROW))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    for column, width in zip("ABCDEF", (16, 16, 18, 14, 14, 16), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    # The lists live on a hidden sheet: an inline list is capped at 255 characters, which
    # a county's townships pass.
    options = book.create_sheet(OPTIONS_SHEET)
    roles = [ROLE_LABELS[r] for r in IMPORTABLE]
    options.append(["角色", "乡镇"])
    for n in range(max(len(roles), len(townships))):
        options.append(
            [roles[n] if n < len(roles) else None, townships[n] if n < len(townships) else None]
        )
    options.sheet_state = "hidden"
    lists = [("C", "A", len(roles), "角色", "请从下拉列表中选择角色")]
    if townships:
        lists.append(("D", "B", len(townships), "乡镇", "请从下拉列表中选择乡镇（县政协督办留空）"))
    for column, source, count, title, message in lists:
        choice = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${source}$2:${source}${count + 1}",
            allow_blank=True,
            showDropDown=False,  # (sic: False shows the arrow)
            showErrorMessage=True,
            errorStyle="warning",  # a name typed differently can still be kept, and checked
            errorTitle=title,
            error=f"{message}；不在列表中的{title}在“检查”时会被指出。",
            promptTitle=title,
            prompt=message,
            showInputMessage=True,
        )
        choice.add(f"{column}2:{column}{TEMPLATE_ROWS}")
        sheet.add_data_validation(choice)
    notes = book.create_sheet("填写说明")
    for line in TEMPLATE_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TEMPLATE_NOTES = (
    "每行一个人。姓名、角色、乡镇必填；示例行（王建华（示例））请删除后再导入，“检查”会指出它。",
    "角色和乡镇可以从下拉列表中选择；表头上面可以有标题行，合并的乡镇单元格按显示的内容读取。",
    "用户名可以不填：系统用姓名的拼音生成（重名时加数字），导入后在名单中列出。",
    "角色填写：政协委员/联络员、村（居）民代表、村干部、工作人员、县政协督办。",
    "乡镇和村（社区）要与系统中的名称完全一致；村（居）民代表和村干部必须填写村（社区）。",
    "县政协督办不属于任何乡镇，乡镇一栏留空。",
    "手机号可以不填，填写时为 11 位数字。",
    "先点“检查”：有问题的行会逐行列出，什么都不会写入；没有问题再点“导入”。",
    "导入后每人得到一个初始密码，只显示一次，可打印成名单分发；第一次登录时必须修改。",
)


def template_csv() -> bytes:
    """The same columns as CSV (UTF-8 with BOM, so Excel opens it right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE_ROW)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def sheet_pdf(accounts: list[ImportedAccount], renderer: Renderer) -> bytes:
    """The printable list of usernames and first passwords, for the office to hand out
    (rendered like the documents, with their faces; never stored)."""
    job = RenderJob(
        template="account_sheet.html",
        context={
            "accounts": [msgspec.structs.asdict(a) for a in accounts],
            "made_at": chinese_datetime(utcnow()),
        },
        qr_text=SHEET_TITLE,
        verify_label="",
        title=SHEET_TITLE,
        author="好商量协商议事",
    )
    return await renderer.render(job)


def as_read(result: ImportResult, *, dry_run: bool) -> ImportRead:
    """The answer of the API (first passwords only after a real run)."""
    return ImportRead(
        dry_run=dry_run,
        rows=result.rows,
        created=result.accounts if result.created else [],
        checked=result.accounts,
        errors=result.errors,
    )
