"""Makes ``roster.xls``: a roster as a township clerk keeps it in Excel 97–2003 format
(issue 25), for ``tests/api/test_import.py``. A title merged across the columns above
the header, the township merged down its rows, phone numbers stored as numbers.

Run once, with xlwt (not a dependency of the project; xlrd reads the file):
``.venv/bin/pip install xlwt && .venv/bin/python tests/api/files/make_roster_xls.py``.
"""

from __future__ import annotations

from pathlib import Path

import xlwt

TOWNSHIP = "黄金埠镇"
VILLAGES = ("金山村", "银湾村")
PEOPLE = (
    ("李秀英", "村（居）民代表", "金山村", 13900000001),
    ("赵德胜", "村（居）民代表", "银湾村", 13900000002),
    ("钱桂兰", "村（居）民代表", "金山村", None),
    ("孙志强", "工作人员", "", 13900000004),
)


def main() -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("代表名单")
    bold = xlwt.easyxf("font: bold on; align: horiz center")
    sheet.write_merge(0, 0, 0, 6, f"{TOWNSHIP}村（居）民代表名单", bold)
    for column, name in enumerate(("序号", "姓名", "角色", "乡镇", "村（社区）", "手机号", "备注")):
        sheet.write(1, column, name, bold)
    first = 2
    for n, (name, role, village, phone) in enumerate(PEOPLE):
        row = first + n
        sheet.write(row, 0, n + 1)
        sheet.write(row, 1, name)
        sheet.write(row, 2, role)
        sheet.write(row, 4, village)
        if phone is not None:
            sheet.write(row, 5, phone)
    sheet.write_merge(first, first + len(PEOPLE) - 1, 3, 3, TOWNSHIP)
    book.save(str(Path(__file__).with_name("roster.xls")))


if __name__ == "__main__":
    main()
