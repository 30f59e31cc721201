"""Importing 2 000 representatives from an .xlsx (issue 14): the whole import over HTTP
(``POST /api/v1/users/import`` to ``deliberation serve`` with its defaults), and the same
import timed by its parts in-process on another copy of the file: reading the file,
checking every row, hashing the first passwords (two threads), and the transaction
that writes the accounts and their security-log rows. Beside it, in the same run, what
hashing would cost with the default (slow) argon2 parameters every chosen password
gets, measured on 20 hashes.

Target: the import of 2 000 rows under 10 s on SQLite and PostgreSQL.

    python -m bench.account_import --engine sqlite
    python -m bench.account_import --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import tempfile
import time
from typing import Any

import httpx
from openpyxl import Workbook

from bench.common import BENCH_PASSWORD, KEYS, cli, fresh_database, save_results
from bench.session_check import deliberation_serve

TOWNSHIP = "黄金埠镇"
VILLAGES = ("金山村", "新街村", "塘背村", "渡口村", "黄金埠社区")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英志强丽华桂兰德明春燕国平玉梅长生小燕海波翠英"


def workbook(rows: int, tag: str) -> bytes:
    """``rows`` representatives, usernames left empty (made from pinyin)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "用户名", "角色", "乡镇", "村(社区)", "手机号"])
    for i in range(rows):
        name = (
            SURNAMES[i % 20] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 3 + 1) % len(GIVEN)] + tag
        )
        sheet.append([name, "", "村（居）民代表", TOWNSHIP, VILLAGES[i % 5], 13900000000 + i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed_parts(url: str, content: bytes) -> dict[str, float]:
    """The import by its parts, in-process, on ``url``."""
    import os

    os.environ.update(KEYS)
    from deliberation import account_import
    from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
    from deliberation.security import hash_first_password, hash_password
    from deliberation.security_log import CLI

    async def run() -> dict[str, float]:
        engine = engine_for_url(url)
        bind_engine(engine)
        await open_engine(engine)
        try:
            t0 = time.perf_counter()
            rows = account_import.read_rows(content, "b.xlsx")
            t1 = time.perf_counter()
            accounts, problems = await account_import.check(rows)
            t2 = time.perf_counter()
            assert not problems, problems[:3]
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(
                    loop.run_in_executor(account_import._HASHING, hash_first_password, "Ab3" * 4)
                    for _ in accounts
                )
            )
            t3 = time.perf_counter()
            slow = time.perf_counter()
            for _ in range(20):
                hash_password("Ab3" * 4)
            slow_each = (time.perf_counter() - slow) / 20
            whole0 = time.perf_counter()
            result = await account_import.import_accounts(CLI, content, "c.xlsx", dry_run=False)
            whole = time.perf_counter() - whole0
            assert result.created and len(result.accounts) == len(accounts)
            return {
                "read_file_s": round(t1 - t0, 2),
                "check_rows_s": round(t2 - t1, 2),
                "hash_first_passwords_s": round(t3 - t2, 2),
                "whole_import_in_process_s": round(whole, 2),
                "write_s_estimate": round(whole - (t3 - t0), 2),
                "default_argon2_ms_each": round(slow_each * 1000, 1),
                "default_argon2_for_all_s_single_thread": round(slow_each * len(accounts), 1),
            }
        finally:
            await close_engine(engine)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.engine, tmp, TOWNSHIP)
        for village in VILLAGES:
            cli(url, "village", "create", village, "--township", TOWNSHIP)
        cli(
            url,
            "user",
            "create",
            "--username",
            "benchadmin",
            "--role",
            "admin",
            "--display-name",
            "压测管理员",
            "--password-stdin",
            stdin=f"{BENCH_PASSWORD}\n",
        )
        first = workbook(args.rows, "甲")
        with (
            deliberation_serve(url, fast_path=True) as base,
            httpx.Client(base_url=base, timeout=300) as client,
        ):
            token = client.post(
                "/api/v1/auth/token", json={"username": "benchadmin", "password": BENCH_PASSWORD}
            ).json()["access_token"]
            started = time.perf_counter()
            answer = client.post(
                "/api/v1/users/import",
                files={"file": ("b.xlsx", first, "application/octet-stream")},
                headers={"Authorization": f"Bearer {token}"},
            )
            http_s = time.perf_counter() - started
            answer.raise_for_status()
            created = len(answer.json()["created"])
        parts = timed_parts(url, workbook(args.rows, "乙"))
        result: dict[str, Any] = {
            "engine": args.engine,
            "rows": args.rows,
            "created_over_http": created,
            "http_import_s": round(http_s, 2),
            "file_kb": round(len(first) / 1024),
            **parts,
            "target_s": 10,
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        save_results(f"account_import_{args.engine}", result)


if __name__ == "__main__":
    main()
