"""The ``deliberation`` command line: serve, worker, migrate, accounts, demo, audit,
render, fonts, outbox, calendar, workflow."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from api.settings import DEFAULT_PUBLIC_URL, ServeLimits, Settings, SettingsError
from deliberation import (
    account_import,
    accounts,
    audit,
    demo,
    documents,
    pinning,
    security,
    workdays,
)
from deliberation.context import entered
from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
from deliberation.errors import DomainError, ValidationFailed
from deliberation.migrate import MigrationFailed, migrate, use_package_conf
from deliberation.pinning import workflow_of
from deliberation.schemas import UserCreate, UserUpdate
from deliberation.security import password_problems
from deliberation.security_log import CLI
from deliberation.topics import topic_row
from workflows import REGISTRY, ROLE_LABELS, ROLES, WORKFLOW, mermaid


def _run(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    async def main() -> int:
        engine = engine_for_url(settings.database_url, fast_path=settings.fast_path)
        bind_engine(engine)
        await open_engine(engine, pool_size=2)
        try:
            return await work()
        finally:
            await close_engine(engine)

    return asyncio.run(main())


def served_url(host: str, port: int) -> str:
    """The address a server listening on ``host:port`` is reached at from this machine
    (all interfaces: loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    # The receipt deadline and the connection cap (api/serving.py): the flags over the
    # environment, written back to it so that every worker process reads the same.
    try:
        limits = ServeLimits.from_env()
        limits = dataclasses.replace(
            limits,
            **{
                name: value
                for name, value in (
                    ("header_timeout_seconds", args.header_timeout),
                    ("body_timeout_seconds", args.body_timeout),
                    ("max_connections", args.max_connections),
                )
                if value is not None
            },
        )
        limits.validate()
    except SettingsError as error:
        print(f"配置错误：{error}", file=sys.stderr)
        return 2
    os.environ.update(limits.environ())
    # Links and QR codes name the address this server answers at, unless told otherwise
    # (DELIBERATION_PUBLIC_URL, for a server behind a proxy or a domain name).
    if not os.environ.get("DELIBERATION_PUBLIC_URL"):
        os.environ["DELIBERATION_PUBLIC_URL"] = served_url(args.host, args.port)
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http="api.serving:ReceiptDeadlineProtocol",
        # The cap is the protocol's (a 503 with problem details), not uvicorn's.
        limit_concurrency=None,
        # The client address is ours to read (api.middleware.client_address): uvicorn
        # would otherwise take X-Forwarded-For from any loopback peer.
        proxy_headers=False,
        log_level="warning",
        access_log=False,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        try:
            report = await migrate(quiet=True)
        except MigrationFailed as error:
            print(f"迁移失败：{error}", file=sys.stderr)
            return 1
        last = [line for line in report.splitlines() if line.strip()]
        print(last[-1] if last else "migrations applied")
        return 0

    return _run(settings, work)


def cmd_township_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        township = await accounts.create_township(args.name)
        print(f"已创建乡镇 {township.name} (id={township.id})")
        return 0

    return _run(settings, work)


def _offers(keys: list[str]) -> str:
    return "、".join(keys) or "无"


def cmd_township_workflows(args: argparse.Namespace, settings: Settings) -> int:
    """``township workflows NAME [KEY ...]``: show, or set, the township-scope workflows
    a township offers (docs/workflows.md, "Which workflows a township offers")."""

    async def work() -> int:
        township = await accounts.township_by_name(args.name)
        if township is None:
            print(f"乡镇“{args.name}”不存在", file=sys.stderr)
            return 2
        if args.keys:
            township = await accounts.update_township(township.id, workflows=args.keys)
        print(f"乡镇 {township.name} 提供的协商流程：{_offers(township.workflows)}")
        return 0

    return _run(settings, work)


def cmd_village_workflows(args: argparse.Namespace, settings: Settings) -> int:
    """``village workflows NAME --township T [KEY ...|--none]``: show, or set, the
    village-scope workflows a village offers."""

    async def work() -> int:
        township = await accounts.township_by_name(args.township)
        if township is None:
            print(f"乡镇“{args.township}”不存在", file=sys.stderr)
            return 2
        found = [
            v for v in await accounts.list_villages(township_id=township.id) if v.name == args.name
        ]
        if not found:
            print(f"{township.name}没有村（社区）“{args.name}”", file=sys.stderr)
            return 2
        village = found[0]
        if args.keys or args.none:
            village = await accounts.update_village(village.id, workflows=args.keys)
        print(f"村（社区）{village.name} 提供的协商流程：{_offers(village.workflows)}")
        return 0

    return _run(settings, work)


def cmd_village_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        township = await accounts.township_by_name(args.township)
        if township is None:
            print(f"乡镇“{args.township}”不存在", file=sys.stderr)
            return 2
        village = await accounts.create_village(args.name, township.id)
        print(f"已创建村（社区）{village.name}（id={village.id}），属于 {township.name}")
        return 0

    return _run(settings, work)


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> int:
    if not args.password_stdin:
        print("请用 --password-stdin 从标准输入提供密码", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")

    async def work() -> int:
        township_id = village_id = None
        if args.township:
            township = await accounts.township_by_name(args.township)
            if township is None:
                print(f"乡镇“{args.township}”不存在", file=sys.stderr)
                return 2
            township_id = township.id
        if args.village:
            villages = await accounts.list_villages(township_id=township_id)
            matches = [v for v in villages if v.name == args.village]
            if len(matches) != 1:
                print(
                    f"找不到唯一的村（社区）“{args.village}”，请同时指定 --township",
                    file=sys.stderr,
                )
                return 2
            village_id = matches[0].id
            township_id = matches[0].township_id
        import msgspec

        problems = password_problems(password, args.username)
        if problems:
            print("密码不符合要求：" + "；".join(problems) + "。", file=sys.stderr)
            return 2
        try:
            data = msgspec.convert(
                {
                    "username": args.username,
                    "password": password,
                    "display_name": args.display_name,
                    "role": args.role,
                    "township_id": township_id,
                    "village_id": village_id,
                },
                UserCreate,
            )
        except msgspec.ValidationError as error:
            print(f"错误：{_option_problem(str(error))}", file=sys.stderr)
            return 2
        user = await accounts.create_user(data)
        print(f"已创建账号 {user.username} (id={user.id}, role={user.role})")
        return 0

    return _run(settings, work)


OPTION_OF_FIELD = {
    "username": "--username",
    "display_name": "--display-name",
    "role": "--role",
    "township_id": "--township",
    "village_id": "--village",
    "password": "密码（标准输入）",
}
"""The command-line option a field of the API's input comes from, for error messages."""


def _option_problem(message: str) -> str:
    """A msgspec message (``Expected `str` of length <= 64 - at `$.username```) in plain
    words, naming the option instead of the field."""
    field = message.rsplit("$.", 1)[-1].strip("`") if "$." in message else ""
    option = OPTION_OF_FIELD.get(field, field or "输入")
    found = re.search(r"length (<=|>=) (\d+)", message)
    if found:
        limit = "最多" if found.group(1) == "<=" else "至少"
        return f"{option} {limit} {found.group(2)} 个字符"
    return f"{option} 的值不对"


def _publishing(settings: Settings) -> documents.Publishing:
    """Documents rendered in this process (no worker pool for a one-off command)."""
    return documents.Publishing(
        documents.Renderer(0),
        settings.public_url,
        settings.posting_days,
        settings.county_number_prefix,
    )


def _document_kinds() -> dict[str, str]:
    """Every loaded workflow's document kinds, each once (name → its labels, the default
    workflow's first), the choices of ``render --kind`` (docs/workflows.md
    ``[[documents]]``): a workflow file that adds a document adds a choice."""
    found: dict[str, dict[str, None]] = {}
    for workflow in (WORKFLOW, *REGISTRY):
        for document in workflow.documents:
            found.setdefault(document.name, {})[document.label] = None
    return {name: "/".join(labels) for name, labels in found.items()}


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        publishing = _publishing(settings)
        staff, topic_id = await documents.service.staff_of_topic(args.reference, args.as_user)
        workflow = workflow_of(await topic_row(topic_id))
        if workflow.unavailable:
            print(f"错误：{workflow.unavailable}", file=sys.stderr)
            return 1
        offered = [d.name for d in workflow.documents]
        if args.kind not in offered:
            listed = "、".join(f"{d.name}（{d.label}）" for d in workflow.documents) or "无"
            print(
                f"错误：议题 {args.reference} 所用的流程（{workflow.label}）没有"
                f"“{args.kind}”这种公文；可生成：{listed}",
                file=sys.stderr,
            )
            return 2
        document = await documents.create_document(staff, topic_id, args.kind, publishing)
        if args.publish:
            document = await documents.publish_document(
                staff, document.id, args.posting_days, publishing
            )
        pdf = await documents.document_pdf(staff, document.id)
        Path(args.out).write_bytes(pdf.content)
        print(
            f"已生成{document.kind_label}({document.status_label}):{args.out},"
            f"{document.size_bytes} 字节，SHA-256 {document.sha256}"
        )
        print(f"核验页面：{document.verify_url}")
        return 0

    return _run(settings, work)


def cmd_fonts(args: argparse.Namespace, settings: Settings) -> int:
    """Which file serves each role of the documents' faces; what is missing and how to
    install it."""
    from deliberation.documents import fonts

    if args.install:
        missing = fonts.install(processes=min(len(os.sched_getaffinity(0)), len(fonts.ROLES)))
    else:
        missing = fonts.missing_files()
    if args.quiet and not missing:
        return 0
    print("公文字体（每种用途使用的字体文件）：")
    for line in fonts.report():
        print(f"  {line}")
    if not missing:
        print("字体齐全。")
        return 0
    print("缺少以下字体，公文将改用备用字体（pip 安装的思源字体，粗体为合成粗体）：")
    for file in missing:
        print(f"  {file.name}（{file.package}）")
    print(f"安装命令：{fonts.install_command(missing)}")
    return 0


def cmd_workflow_check(args: argparse.Namespace, settings: Settings) -> int:
    """Each file read and validated: a one-line summary, or every mistake on its own line."""
    from deliberation import record_types
    from workflows.loader import WorkflowInvalid, load

    failed = False
    for file in args.files:
        try:
            workflow = load(file)
        except WorkflowInvalid as error:
            failed = True
            print(f"{file}：有 {len(error.mistakes)} 处错误", file=sys.stderr)
            for mistake in error.mistakes:
                at = f"{file}:{mistake.line}" if mistake.line else file
                print(f"{at}: {mistake}", file=sys.stderr)
            continue
        stored = record_types.storage_mistakes(workflow)
        if stored:
            failed = True
            print(f"{file}：有 {len(stored)} 处错误", file=sys.stderr)
            for mistake in stored:
                print(f"{file}: {mistake}", file=sys.stderr)
            continue
        print(
            f"{file}：{workflow.key} 第 {workflow.version} 版「{workflow.label}」无误"
            f"（{len(workflow.states)} 个状态，{len(workflow.transitions)} 个步骤，"
            f"{len(workflow.records)} 种记录，{len(workflow.documents)} 种公文）"
        )
    return 1 if failed else 0


SCOPE_LABELS = {"township": "镇（街道）", "village": "村（社区）"}


def cmd_workflow_list(args: argparse.Namespace, settings: Settings) -> int:
    """The loaded workflows: key, version, label, where offered, how many states."""
    from workflows.registry import REGISTRY

    for workflow in REGISTRY:
        print(
            f"{workflow.key}\tv{workflow.version}\t{workflow.label}\t"
            f"{SCOPE_LABELS[workflow.scope]}\t{len(workflow.states)} 个状态"
        )
    for line in _unloaded_pins(settings):
        print(f"警告：{line}", file=sys.stderr)
    return 0


def _unloaded_pins(settings: Settings) -> list[str]:
    """What topics of the database are pinned to a version not loaded here, when there
    is a migrated database to ask (the workflow commands need none: without one, or
    before its first migration, nothing is said)."""
    from deliberation import pinning
    from workflows.registry import REGISTRY

    url = settings.database_url
    if url.startswith("sqlite:") and not Path(url.split("///", 1)[-1]).is_file():
        return []

    async def ask() -> int:
        found.extend(p.describe(str(REGISTRY.directory)) for p in await pinning.unloaded_pins())
        return 0

    found: list[str] = []
    try:
        _run(settings, ask)
    except Exception:  # no database reachable, or not migrated: nothing to say
        return []
    return found


def cmd_workflow_diagram(args: argparse.Namespace, settings: Settings) -> int:
    """A loaded workflow's Mermaid diagram (its latest version unless --version)."""
    from workflows.registry import REGISTRY

    try:
        if args.version is None:
            workflow = REGISTRY.latest(args.key)
        else:
            workflow = REGISTRY.get(args.key, args.version)
    except KeyError:
        known = "、".join(f"{w.key} v{w.version}" for w in REGISTRY)
        wanted = args.key if args.version is None else f"{args.key} v{args.version}"
        print(f"错误：没有工作流程 {wanted}（已载入：{known}）", file=sys.stderr)
        return 1
    print(mermaid(workflow), end="")
    return 0


def print_demo_accounts() -> None:
    def line(a: demo.DemoAccount) -> None:
        print(f"  {a.role:<15} 用户名 {a.username:<12} 密码 {a.password}   {a.display_name}")

    print("演示账号 (demo accounts)")
    print("全县：")
    for a in (*(a for a in demo.ACCOUNTS if a.role == "admin"), demo.SUPERVISOR):
        line(a)
    print(f"{demo.TOWNSHIP}：")
    for a in demo.ACCOUNTS:
        if a.role != "admin":
            line(a)
    others = sum(len(names) for _, names in demo.REPRESENTATIVES) - 1
    print(f"  另有 {others} 位村（居）民代表：daibiao01 至 daibiao{others:02d}，密码同 rep")
    print(f"{demo.SECOND_TOWNSHIP}：")
    for a in demo.SECOND_ACCOUNTS:
        line(a)
    reps = sum(len(names) for _, names in demo.SECOND_REPRESENTATIVES)
    print(f"  另有 {reps} 位村（居）民代表：gkdaibiao01 至 gkdaibiao{reps:02d}，密码同 rep")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    # The demo's documents name the address the demo will be served at (``make run
    # PORT=…`` passes it), as ``serve`` does, unless DELIBERATION_PUBLIC_URL says otherwise.
    if (args.host or args.port) and settings.public_url == DEFAULT_PUBLIC_URL:
        address = served_url(args.host or "127.0.0.1", args.port or 8000)
        settings = dataclasses.replace(settings, public_url=address)

    async def work() -> int:
        report = await demo.seed(_publishing(settings), if_empty=args.if_empty)
        if report.created:
            villages, topics = len(demo.VILLAGES), len(demo.STORIES) + len(demo.workflow_demos())
            others = "、".join(f"{w.label}“{title}”" for w, title, _ in demo.workflow_demos())
            print(
                f"已创建演示数据：{demo.TOWNSHIP}，{villages} 个村（社区），{topics} 个议题"
                f"（其中{others}）"
            )
            villages, topics = len(demo.SECOND_VILLAGES), len(demo.SECOND_STORIES)
            print(
                f"已创建演示数据：{demo.SECOND_TOWNSHIP}，{villages} 个村（社区），{topics} 个议题"
                f"（其中 1 个已逾期，供县政协督办）"
            )
        else:
            print(report.skipped_reason)
            made_for = await demo.documents_address()
            if made_for and made_for != settings.public_url:
                # Published documents cannot change (their hashes are in the audit chain).
                print(
                    f"注意：演示公文中的链接和二维码指向 {made_for}（生成演示数据时的地址），"
                    f"而不是 {settings.public_url}。如需更新，请清空数据库"
                    f"（默认 var/deliberation.sqlite3）后重新运行 make run。"
                )
        if await demo.demo_exists():
            print_demo_accounts()
        return 0

    return _run(settings, work)


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    saved = None
    if args.against:
        try:
            saved = json.loads(Path(args.against).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"错误：无法读取链头文件 {args.against}：{error}", file=sys.stderr)
            return 2
        if not isinstance(saved, dict):
            print(f"错误：{args.against} 不是 chain-heads 的副本", file=sys.stderr)
            return 2

    async def work() -> int:
        counts, problems = await audit.verify_chains()
        checked = counts["topic"]
        # Suggestions and plans (issue 27) are named only when there are any: the line
        # stays as it was for a database without them.
        others = "".join(
            f"、{n} {unit}"
            for n, unit in ((counts["suggestion"], "条建议"), (counts["plan"], "份协商计划"))
            if n
        )
        missing = await audit.check_against(saved) if saved is not None else []
        if problems or missing:
            print(
                f"审计链校验失败：{len(problems) + len(missing)} 处问题"
                f"（共检查 {checked} 个议题{others}）"
            )
            for found in problems:
                print(f"  BROKEN {found.describe()}")
            for sentence in missing:
                print(f"  MISSING {sentence}")
            return 1
        against = ""
        if saved:
            listed = sum(
                len(saved.get(key) or []) for key in ("heads", "suggestion_heads", "plan_heads")
            )
            root = f"及 {saved['root_as_of']} 时全部审计链的根" if "root" in saved else ""
            against = f"，与 {args.against} 中的 {listed} 个链头{root}一致"
        print(
            f"审计链完好：已检查 {checked} 个议题{others}{against} "
            f"(audit chain intact: {checked} topics)"
        )
        return 0

    return _run(settings, work)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """The delivery loop and scheduler on their own (``deliberation worker``)."""
    import signal

    from deliberation.notifications.delivery import run_worker
    from deliberation.notifications.reminders import scheduler_tick

    async def work() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("投递进程已启动 (webhook delivery worker running)", flush=True)
        await run_worker(settings.delivery(), stop, scheduler=scheduler_tick)
        return 0

    return _run(settings, work)


def cmd_outbox_retry(args: argparse.Namespace, settings: Settings) -> int:
    from deliberation.notifications.webhooks import retry_dead

    async def work() -> int:
        revived = await retry_dead(args.webhook)
        print(f"已重新排队 {revived} 条失败的推送 (dead deliveries queued again)")
        return 0

    return _run(settings, work)


def cmd_calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as error:
        print(f"错误：无法读取文件 {args.file}：{error.strerror}", file=sys.stderr)
        return 1
    schedule = workdays.parse_schedule(text)

    async def work() -> int:
        await workdays.load_schedule(schedule)
        print(
            f"已载入 {schedule.year} 年节假日安排：放假 {len(schedule.holidays)} 天，"
            f"调休上班 {len(schedule.workdays)} 天；此后该年的工作日按此计算。"
        )
        return 0

    return _run(settings, work)


def cmd_user_active(args: argparse.Namespace, settings: Settings) -> int:
    """``user deactivate`` / ``user activate``: deactivating ends every session at once."""
    active = args.action == "activate"

    async def work() -> int:
        user_id = await accounts.user_id_by_name(args.username)
        await accounts.update_user(CLI, user_id, UserUpdate(active=active))
        print(f"已{'启用' if active else '停用'}账号 {args.username}")
        return 0

    return _run(settings, work)


def cmd_user_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        user_id = await accounts.user_id_by_name(args.username)
        temporary = await accounts.reset_password(CLI, user_id)
        print(f"账号 {args.username} 的临时密码：{temporary}")
        print("请当面交给本人；下次登录时必须改成自己的新密码。原有登录已全部退出。")
        return 0

    return _run(settings, work)


def cmd_user_import(args: argparse.Namespace, settings: Settings) -> int:
    """``user import FILE [--dry-run] [--sheet OUT.pdf]``: every bad row named; all rows
    created, or none; the first passwords printed once (and on the sheet)."""
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件 {args.file}", file=sys.stderr)
        return 2

    async def work() -> int:
        result = await account_import.import_accounts(
            CLI, path.read_bytes(), path.name, dry_run=args.dry_run
        )
        for problem in result.errors:
            print(f"第 {problem.row} 行「{problem.field}」：{problem.message}", file=sys.stderr)
        if result.errors:
            print(f"有 {len(result.errors)} 处问题，没有导入任何账号。", file=sys.stderr)
            return 1
        if args.dry_run:
            print(f"检查通过：{len(result.accounts)} 行都可以导入（没有写入）。")
            for a in result.accounts:
                print(f"第 {a.row} 行  {a.display_name}  {a.username}  {a.role_label}")
            return 0
        print(f"已导入 {len(result.accounts)} 个账号（第一次登录时必须修改密码）：")
        for a in result.accounts:
            print(f"{a.display_name}  用户名 {a.username}  初始密码 {a.first_password}")
        if args.sheet:
            pdf = await account_import.sheet_pdf(result.accounts, documents.Renderer(0))
            Path(args.sheet).write_bytes(pdf)
            print(f"名单已写入 {args.sheet}，请打印后当面交给本人。")
        return 0

    return _run(settings, work)


def cmd_export_open_data(args: argparse.Namespace, settings: Settings) -> int:
    """``export open-data --out DIR``: build the open data now (the worker does it daily)."""
    from deliberation import open_data

    async def work() -> int:
        out = Path(args.out) if args.out else settings.open_data_dir
        export = await open_data.write(out, settings.public_url)
        counts = "，".join(f"{f.title} {export.rows[f.name]} 行" for f in open_data.FILES)
        print(f"公开数据已写入 {out}（{open_data.LATEST} 及各文件）：{counts}")
        return 0

    return _run(settings, work)


def cmd_archive(args: argparse.Namespace, settings: Settings) -> int:
    """``archive REFERENCE --out FILE.zip``, or ``archive --all --year YYYY --out DIR``:
    finished topics as BagIt bags (一事一档)."""
    from deliberation import archive
    from deliberation.tables import Topic

    if bool(args.reference) == bool(args.all):
        print("请给出一个议题编号，或 --all --year 年份", file=sys.stderr)
        return 2
    if args.all and args.year is None:
        print("--all 需要 --year 年份", file=sys.stderr)
        return 2
    config = settings.archive()

    async def work() -> int:
        if args.reference:
            found = await Topic.select(
                Topic.id, Topic.state, Topic.workflow_key, Topic.workflow_version
            ).where(Topic.reference == args.reference.strip())
            if not found:
                print(f"找不到议题 {args.reference}", file=sys.stderr)
                return 1
            workflow = pinning.workflow_of(found[0])
            if workflow.unavailable:
                print(f"{workflow.unavailable}（也不能归档）", file=sys.stderr)
                return 1
            state = workflow.state(found[0]["state"])
            if not state.terminal:
                print(
                    f"议题处于“{state.label}”阶段：办结、不予立项或撤回后才能归档", file=sys.stderr
                )
                return 1
            bag = await archive.make_bag(found[0]["id"], config)
            Path(args.out).write_bytes(bag.content)
            print(f"已写入 {args.out}：档号 {bag.archive_code}")
            return 0
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        ids = await archive.finished_topics(args.year)
        for topic_id in ids:
            bag = await archive.make_bag(topic_id, config)
            (folder / f"{bag.name}.zip").write_bytes(bag.content)
            print(f"{bag.name}.zip  档号 {bag.archive_code}")
        print(f"{args.year} 年结束的 {len(ids)} 个议题已写入 {folder}")
        for pin in await pinning.unloaded_pins():  # never archived while not loaded
            print(f"警告：{pin.describe(str(pinning.loaded().directory))}", file=sys.stderr)
        return 0

    return _run(settings, work)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """``report --year YYYY [--township NAME] --out FILE.pdf``: the annual report of a
    township, or of every township together."""
    from deliberation import annual_report
    from deliberation.tables import Township

    async def work() -> int:
        township_id = None
        if args.township:
            found = await Township.select(Township.id).where(Township.name == args.township)
            if not found:
                print(f"找不到乡镇 {args.township}", file=sys.stderr)
                return 1
            township_id = found[0]["id"]
        pdf = await annual_report.report_pdf(
            annual_report.COMMAND_LINE,
            year=args.year,
            township_id=township_id,
            renderer=documents.Renderer(0),
            public_url=settings.public_url,
        )
        Path(args.out).write_bytes(pdf)
        print(f"{args.township or '全县'}{args.year}年协商议事工作情况已写入 {args.out}")
        return 0

    return _run(settings, work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deliberation", description="好商量 协商议事流程引擎")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1; each has its own PDF render workers)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request headers are not complete this long after "
        "the request's first byte, with a 408 (default 10; DELIBERATION_HEADER_TIMEOUT_SECONDS)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request body is not complete this long after the "
        "request's first byte, with a 408 (default 60; DELIBERATION_BODY_TIMEOUT_SECONDS)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="open connections per server process; a request on one more is answered 503 "
        "(default 900; DELIBERATION_MAX_CONNECTIONS)",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    create = user.add_parser("create", help="create an account")
    create.add_argument(
        "--username", required=True, help="the sign-in name (letters, digits, . _ -)"
    )
    create.add_argument(
        "--role",
        required=True,
        choices=list(ROLES),
        help="、".join(f"{role} {ROLE_LABELS[role]}" for role in ROLES),
    )
    create.add_argument("--display-name", required=True, help="the person's name, e.g. 王建华")
    create.add_argument(
        "--township", help="the township's name (every role but admin belongs to one)"
    )
    create.add_argument(
        "--village", help="the village's name (representatives and village cadres belong to one)"
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.set_defaults(func=cmd_user_create)
    for action, text in (
        ("deactivate", "deactivate an account (its sessions end at once)"),
        ("activate", "activate a deactivated account again"),
    ):
        switch = user.add_parser(action, help=text)
        switch.add_argument("username", help="the account's sign-in name")
        switch.set_defaults(func=cmd_user_active)
    reset = user.add_parser(
        "reset-password",
        help="give an account a temporary password (printed once; a new one is required at "
        "the next sign-in; its sessions end)",
    )
    reset.add_argument("username", help="the account's sign-in name")
    reset.set_defaults(func=cmd_user_reset_password)
    imported = user.add_parser(
        "import",
        help="create accounts from an .xlsx, .xls or .csv file (its columns as in the template "
        "the admin page offers); all rows or none",
    )
    imported.add_argument(
        "file", help="the .xlsx, .xls (Excel 97-2003) or .csv file (UTF-8 or GB 18030)"
    )
    imported.add_argument(
        "--dry-run", action="store_true", help="only check every row; write nothing"
    )
    imported.add_argument(
        "--sheet", help="also write the printable list of usernames and first passwords (PDF)"
    )
    imported.set_defaults(func=cmd_user_import)

    township = sub.add_parser("township", help="manage townships").add_subparsers(
        dest="action", required=True
    )
    t_create = township.add_parser("create", help="create a township")
    t_create.add_argument("name", help="the township's name, e.g. 黄金埠镇")
    t_create.set_defaults(func=cmd_township_create)
    t_offer = township.add_parser("workflows", help="show, or set, the workflows a township offers")
    t_offer.add_argument("name", help="the township's name")
    t_offer.add_argument(
        "keys", nargs="*", help="workflow keys of township scope (none given: show them)"
    )
    t_offer.set_defaults(func=cmd_township_workflows)

    village = sub.add_parser("village", help="manage villages").add_subparsers(
        dest="action", required=True
    )
    v_create = village.add_parser("create", help="create a village")
    v_create.add_argument("name", help="the village's name, e.g. 金山村")
    v_create.add_argument("--township", required=True, help="the name of its township")
    v_create.set_defaults(func=cmd_village_create)
    v_offer = village.add_parser("workflows", help="show, or set, the workflows a village offers")
    v_offer.add_argument("name", help="the village's name")
    v_offer.add_argument("--township", required=True, help="the name of its township")
    v_offer.add_argument(
        "keys", nargs="*", help="workflow keys of village scope (none given: show them)"
    )
    v_offer.add_argument("--none", action="store_true", help="offer no village workflow")
    v_offer.set_defaults(func=cmd_village_workflows)

    demo_parser = sub.add_parser("demo", help="seed the demo township (idempotent)")
    demo_parser.add_argument("--if-empty", action="store_true", help="only seed an empty database")
    demo_parser.add_argument(
        "--host",
        help="the address the demo will be served at, for its documents' links and QR codes "
        "(default 127.0.0.1; DELIBERATION_PUBLIC_URL wins)",
    )
    demo_parser.add_argument(
        "--port", type=int, help="the port it will be served at (default 8000)"
    )
    demo_parser.set_defaults(func=cmd_demo)

    audit_parser = sub.add_parser("audit", help="audit the event log").add_subparsers(
        dest="action", required=True
    )
    verify = audit_parser.add_parser(
        "verify", help="verify every topic's keyed hash chain and that its records match it"
    )
    verify.add_argument(
        "--against",
        metavar="FILE",
        help="a saved copy of GET /api/v1/public/chain-heads: every event it names must "
        "still be there, unchanged, and (a copy with a root) every chain's head at its "
        "root_as_of must give the same root",
    )
    verify.set_defaults(func=cmd_audit_verify)

    render = sub.add_parser(
        "render", help="render a topic's document to a PDF file (stored as a draft, or published)"
    )
    render.add_argument("reference", help="the topic's reference, e.g. HSL-2026-0007")
    kinds = _document_kinds()
    render.add_argument(
        "--kind",
        required=True,
        choices=list(kinds),
        help="、".join(f"{name}（{label}）" for name, label in kinds.items())
        + "：须是议题所用流程的公文",
    )
    render.add_argument("--out", required=True, help="the PDF file to write")
    render.add_argument("--publish", action="store_true", help="publish it too")
    render.add_argument(
        "--posting-days",
        type=int,
        default=None,
        help="the posting period in working days (default: the setting, 5)",
    )
    render.add_argument("--as", dest="as_user", help="the staff username to act as")
    render.set_defaults(func=cmd_render)

    fonts = sub.add_parser(
        "fonts", help="say which font file serves each face of the documents, and what is missing"
    )
    fonts.add_argument(
        "--install",
        action="store_true",
        help="install the missing ones (Debian packages need root) and prepare them",
    )
    fonts.add_argument("--quiet", action="store_true", help="say nothing when none is missing")
    fonts.set_defaults(func=cmd_fonts)

    sub.add_parser(
        "worker", help="deliver webhooks and send reminders (besides or instead of serve)"
    ).set_defaults(func=cmd_worker)
    outbox = sub.add_parser("outbox", help="the webhook outbox").add_subparsers(
        dest="action", required=True
    )
    retry = outbox.add_parser("retry", help="queue dead deliveries again")
    retry.add_argument("--webhook", type=int, default=None, help="only this webhook's")
    retry.set_defaults(func=cmd_outbox_retry)

    calendar = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="action", required=True
    )
    load = calendar.add_parser(
        "load", help="load a year's official holiday schedule (JSON; it wins over the package)"
    )
    load.add_argument("file", help="the schedule as JSON (format in the README)")
    load.set_defaults(func=cmd_calendar_load)

    export = sub.add_parser("export", help="export data").add_subparsers(
        dest="action", required=True
    )
    opened = export.add_parser(
        "open-data", help="build the open data (CSV, JSON, data card, licence, latest.zip)"
    )
    opened.add_argument(
        "--out",
        default=None,
        help="the folder to write into (default: var/open-data, what the web serves)",
    )
    opened.set_defaults(func=cmd_export_open_data)

    filed = sub.add_parser(
        "archive", help="a finished topic (or a year's) as BagIt bags with archive codes"
    )
    filed.add_argument("reference", nargs="?", help="the topic's reference (HSL-2026-0001)")
    filed.add_argument("--all", action="store_true", help="every topic that ended in --year")
    filed.add_argument("--year", type=int, default=None, help="with --all: the year they ended")
    filed.add_argument("--out", required=True, help="FILE.zip (one topic) or DIR (--all)")
    filed.set_defaults(func=cmd_archive)

    flows = sub.add_parser("workflow", help="the workflow files").add_subparsers(
        dest="action", required=True
    )
    check = flows.add_parser("check", help="validate workflow files (TOML, docs/workflows.md)")
    check.add_argument("files", nargs="+", metavar="FILE", help="the workflow files to check")
    check.set_defaults(func=cmd_workflow_check)
    flows.add_parser("list", help="the loaded workflows and their versions").set_defaults(
        func=cmd_workflow_list
    )
    diagram = flows.add_parser("diagram", help="a workflow's Mermaid state diagram")
    diagram.add_argument("key", help="the workflow's key (standard)")
    diagram.add_argument(
        "--version", type=int, default=None, help="its version (default: the latest)"
    )
    diagram.set_defaults(func=cmd_workflow_diagram)

    report = sub.add_parser("report", help="the year's consultation work as a PDF report")
    report.add_argument("--year", type=int, required=True, help="topics opened in this year")
    report.add_argument("--township", default=None, help="its name; none: every township")
    report.add_argument("--out", required=True, help="FILE.pdf")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command (``argv``, default ``sys.argv``) with the settings of ``environ``
    (default ``os.environ``), in an application context of its own: the caller's
    engine, key and clock are untouched (the tests call this in-process)."""
    use_package_conf()
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(environ)
    except SettingsError as error:
        print(f"配置错误：{error}", file=sys.stderr)
        return 2
    security.use_hash_cost(settings.password_hash_cost)
    func: Any = args.func
    try:
        with entered(settings.new_context()):
            return int(func(args, settings))
    except ValidationFailed as error:
        for problem in error.errors:
            option = OPTION_OF_FIELD.get(problem["field"], problem["field"])
            print(f"错误：{option}：{problem['message']}", file=sys.stderr)
        return 1
    except DomainError as error:
        print(f"错误：{error.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
