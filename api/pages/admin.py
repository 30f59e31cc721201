"""系统管理: townships, villages and accounts, and the security log (administrators).

Every change goes through ``deliberation.accounts`` (which asks the permission policy
and writes the security log); these handlers only turn forms into its calls and its
refusals into words next to the fields.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta, Struct

from api.controllers.accounts import XLSX, actor_of, download
from api.dependencies import CurrentPublishing
from api.forms import FormData, max_lengths, parse_form
from api.pages.signin import PageController, SignedIn
from deliberation import (
    account_import,
    accounts,
    offerings,
    permissions,
    pinning,
    security_log,
    shuoshi_day,
)
from deliberation.errors import AlreadyExists, DomainError, NotFound, ValidationFailed
from deliberation.offerings import PlaceScope
from deliberation.schemas import (
    Id,
    Name,
    Role,
    SecurityLogPage,
    TownshipCreate,
    UserCreate,
    Username,
    UserUpdate,
    VillageCreate,
    VillageRename,
)
from deliberation.security import Principal, temporary_password
from deliberation.security_log import Actor
from deliberation.validation import REVERSED_RANGE
from workflows import ROLE_LABELS, ROLES
from workflows.declaration import VILLAGE

NO_TOWNSHIP = ("admin", "supervisor")
"""Roles that belong to no township (their township and village fields are ignored)."""
LOG_PAGE = 50


class AccountForm(Struct, forbid_unknown_fields=True, kw_only=True):
    """A new account from the page: the first password is made here and shown once."""

    username: Username
    display_name: Name
    role: Role
    township_id: Id | None = None
    village_id: Id | None = None


class ShuoshiDayForm(Struct, forbid_unknown_fields=True, kw_only=True):
    """A village's 说事日 (docs/decisions.md "The 说事日"): empty clears it."""

    shuoshi_day: Annotated[int, Meta(ge=1, le=28)] | None = None


class SuggestionSettingsForm(Struct, forbid_unknown_fields=True, kw_only=True):
    """A township's settings of villagers' suggestions (docs/decisions.md, "Suggestions:
    the threshold, the deadline and the screening"); the grounds one a line, all empty
    restores the shipped ones."""

    threshold_representatives_divisor: Annotated[int, Meta(ge=1, le=100)]
    threshold_villagers_divisor: Annotated[int, Meta(ge=1, le=100)]
    screening_working_days: Annotated[int, Meta(ge=1, le=60)]
    decline_grounds: Annotated[str, Meta(max_length=4200)] = ""


class RegisteredVillagersForm(Struct, forbid_unknown_fields=True, kw_only=True):
    """A village's 登记村民人数: empty switches the one-tenth rule off."""

    registered_villagers: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None


class AccountEdit(Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: Name
    role: Role
    township_id: Id | None = None
    village_id: Id | None = None


def _errors(refused: DomainError) -> dict[str, str]:
    if isinstance(refused, ValidationFailed):
        return {e["field"]: e["message"] for e in refused.errors}
    return {"form": refused.detail}


async def _places(principal: Principal) -> dict[str, Any]:
    townships = await accounts.list_townships(principal)
    villages = await accounts.list_villages(principal)
    by_township = {t.id: [v for v in villages if v.township_id == t.id] for t in townships}
    return {"townships": townships, "villages_of": by_township}


def _loaded_of_scope() -> dict[str, Any]:
    """The checkboxes of the places page: the loaded workflows each kind of place may
    offer (docs/workflows.md, "Which workflows a township offers")."""
    return {
        "township_workflows": offerings.of_scope("township"),
        "village_workflows": offerings.of_scope("village"),
        "workflow_labels": {w.key: w.label for w in pinning.loaded().newest()},
    }


def _ticked(data: dict[str, Any]) -> list[str]:
    """The ticked ``workflows`` boxes of a form (none, one, or several)."""
    raw = data.get("workflows", [])
    return [raw] if isinstance(raw, str) else [str(k) for k in raw]


RENAME_SHAPES: dict[str, type[Any]] = {"township": TownshipCreate, "village": VillageRename}
"""The form a township's, or a village's, new name is read with."""


def _role_choices() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[role]) for role in ROLES]


class AdminPageController(PageController):
    path = "/admin"

    # Townships and villages ---------------------------------------------------------

    async def _places_page(
        self,
        principal: Principal,
        *,
        form: str | None = None,
        values: dict[str, Any] | None = None,
        problems: dict[str, str] | None = None,
        saved: str | None = None,
        status: int = 200,
    ) -> Template:
        permissions.allowed(principal, "account.manage").check()
        return Template(
            "admin_places.html",
            context={
                **await _places(principal),
                **_loaded_of_scope(),
                "form": form,
                "values": values or {},
                "problems": problems or {},
                "saved": saved,
                "limits": {"township": max_lengths(TownshipCreate)},
            },
            status_code=status,
        )

    @get("/", operation_id="admin_page")
    async def places(
        self,
        principal: SignedIn,
        saved: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """乡镇和村（社区）: every township with its villages; new ones; new names."""
        return await self._places_page(principal, saved=PLACES_SAVED.get(saved or ""))

    @post("/townships", operation_id="admin_new_township", status_code=303)
    async def new_township(
        self, request: Request[Any, Any, Any], principal: SignedIn, data: FormData
    ) -> Template | Redirect:
        return await self._place(
            request,
            principal,
            "township",
            data,
            TownshipCreate,
            lambda v, actor: accounts.create_township(v.name, actor),
        )

    @post("/townships/{township_id:int}", operation_id="admin_rename_township", status_code=303)
    async def rename_township(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        township_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        return await self._rename(request, principal, "township", township_id, data)

    @post("/villages", operation_id="admin_new_village", status_code=303)
    async def new_village(
        self, request: Request[Any, Any, Any], principal: SignedIn, data: FormData
    ) -> Template | Redirect:
        return await self._place(
            request,
            principal,
            "village",
            data,
            VillageCreate,
            lambda v, actor: accounts.create_village(v.name, v.township_id, actor),
        )

    @post("/villages/{village_id:int}", operation_id="admin_rename_village", status_code=303)
    async def rename_village(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        village_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        return await self._rename(request, principal, "village", village_id, data)

    @post(
        "/townships/{township_id:int}/workflows",
        operation_id="admin_township_workflows",
        status_code=303,
    )
    async def township_workflows(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        township_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        """The township-scope workflows a township offers (the ticked boxes)."""
        return await self._offer(request, principal, "township", township_id, data)

    @post(
        "/villages/{village_id:int}/workflows",
        operation_id="admin_village_workflows",
        status_code=303,
    )
    async def village_workflows(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        village_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        """The village-scope workflows a village offers (the ticked boxes)."""
        return await self._offer(request, principal, "village", village_id, data)

    async def _rename(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        scope: PlaceScope,
        place_id: int,
        data: dict[str, Any],
    ) -> Template | Redirect:
        """A township's or a village's new name (a village's is unique in its township)."""
        return await self._place(
            request,
            principal,
            f"{scope}-{place_id}",
            data,
            RENAME_SHAPES[scope],
            lambda v, actor: accounts.update_place(scope, place_id, actor, name=v.name),
        )

    async def _offer(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        scope: PlaceScope,
        place_id: int,
        data: dict[str, Any],
    ) -> Template | Redirect:
        """The workflows a township or a village offers, from its ticked boxes."""
        keys = _ticked(data)
        try:
            await accounts.update_place(
                scope, place_id, actor_of(request, principal), workflows=keys
            )
        except (ValidationFailed, NotFound) as refused:
            return await self._places_page(
                principal,
                form=f"{scope}-{place_id}-workflows",
                values={"workflows": keys},
                problems=_errors(refused),
                status=refused.status,
            )
        return Redirect("/admin?saved=workflows#saved", status_code=303)

    @post(
        "/villages/{village_id:int}/shuoshi-day",
        operation_id="admin_set_shuoshi_day",
        status_code=303,
    )
    async def set_shuoshi_day(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        village_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        return await self._place(
            request,
            principal,
            f"shuoshi-{village_id}",
            data,
            ShuoshiDayForm,
            lambda v, actor: shuoshi_day.set_shuoshi_day(village_id, v.shuoshi_day, actor),
        )

    @post(
        "/townships/{township_id:int}/suggestions",
        operation_id="admin_suggestion_settings",
        status_code=303,
    )
    async def suggestion_settings(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        township_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        """The threshold divisors, the screening working days and the decline grounds of
        a township's villagers' suggestions."""

        async def save(v: SuggestionSettingsForm, actor: Actor) -> Any:
            return await accounts.update_township(
                township_id,
                actor,
                suggestions=accounts.SuggestionSettings(
                    representatives_divisor=v.threshold_representatives_divisor,
                    villagers_divisor=v.threshold_villagers_divisor,
                    screening_working_days=v.screening_working_days,
                    decline_grounds=v.decline_grounds.splitlines(),
                ),
            )

        return await self._place(
            request, principal, f"suggestions-{township_id}", data, SuggestionSettingsForm, save
        )

    @post(
        "/villages/{village_id:int}/registered-villagers",
        operation_id="admin_registered_villagers",
        status_code=303,
    )
    async def registered_villagers(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        village_id: FromPath[int],
        data: FormData,
    ) -> Template | Redirect:
        """A village's registered villagers, the roster of the one-tenth rule."""
        return await self._place(
            request,
            principal,
            f"villagers-{village_id}",
            data,
            RegisteredVillagersForm,
            lambda v, actor: accounts.set_registered_villagers(
                village_id, v.registered_villagers, actor
            ),
        )

    async def _place(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        form: str,
        data: dict[str, Any],
        shape: type[Any],
        save: Callable[[Any, Actor], Awaitable[Any]],
    ) -> Template | Redirect:
        """One form of the places page: its values to ``save``, or the page again with
        each problem next to its field."""
        values, problems = parse_form(data, shape)
        if values is None:
            return await self._places_page(
                principal, form=form, values=data, problems=problems, status=422
            )
        try:
            await save(values, actor_of(request, principal))
        except (ValidationFailed, AlreadyExists) as refused:
            found = _errors(refused)
            if "form" in found:  # "already exists" belongs next to the name
                found = {"name": found.pop("form"), **found}
            return await self._places_page(
                principal, form=form, values=data, problems=found, status=refused.status
            )
        return Redirect(f"/admin?saved={form.split('-')[0]}#saved", status_code=303)

    # Accounts -----------------------------------------------------------------------

    async def _accounts_page(
        self,
        principal: Principal,
        *,
        q: str | None = None,
        role: str | None = None,
        township_id: int | None = None,
        values: dict[str, Any] | None = None,
        problems: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        found = await accounts.list_users(
            principal,
            q=q,
            role=role if role in ROLES else None,
            township_id=township_id,
            limit=500,
        )
        return Template(
            "admin_accounts.html",
            context={
                **await _places(principal),
                "accounts": found,
                "q": q or "",
                "role": role or "",
                "township_id": township_id,
                "roles": _role_choices(),
                "role_labels": ROLE_LABELS,
                "form": "account" if problems else None,
                "values": values or {},
                "problems": problems or {},
                "limits": {"account": max_lengths(AccountForm)},
            },
            status_code=status,
        )

    @get("/accounts", operation_id="admin_accounts_page")
    async def account_list(
        self,
        principal: SignedIn,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        role: Annotated[str | None, QueryParameter(max_length=20)] = None,
        township: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        """账号: search by username or name, narrow by role and township; a new one."""
        return await self._accounts_page(principal, q=q, role=role, township_id=township)

    @post("/accounts", operation_id="admin_new_account", status_code=200)
    async def new_account(
        self, request: Request[Any, Any, Any], principal: SignedIn, data: FormData
    ) -> Template:
        """A new account with a first password made here, shown once; the person chooses
        their own at their first sign-in."""
        values, problems = parse_form(data, AccountForm)
        if values is None:
            return await self._accounts_page(principal, values=data, problems=problems, status=422)
        first = temporary_password()
        placed = values.role not in NO_TOWNSHIP
        try:
            user = await accounts.create_user(
                UserCreate(
                    username=values.username,
                    password=first,
                    display_name=values.display_name,
                    role=values.role,
                    township_id=values.township_id if placed else None,
                    village_id=values.village_id if placed else None,
                ),
                actor_of(request, principal),
                must_change_password=True,
            )
        except (ValidationFailed, AlreadyExists) as refused:
            found = _errors(refused)
            if "form" in found:  # the username is taken
                found = {"username": found.pop("form"), **found}
            return await self._accounts_page(
                principal, values=data, problems=found, status=refused.status
            )
        return _password_shown(user.id, user.username, user.display_name, first, created=True)

    @get("/accounts/{user_id:int}", operation_id="admin_account_page")
    async def account(self, principal: SignedIn, user_id: FromPath[int]) -> Template:
        return await self._account_page(principal, user_id)

    async def _account_page(
        self,
        principal: Principal,
        user_id: int,
        *,
        form: str | None = None,
        values: dict[str, Any] | None = None,
        problems: dict[str, str] | None = None,
        saved: str | None = None,
        status: int = 200,
    ) -> Template:
        user = await accounts.get_user(principal, user_id)
        log = await security_log.entries(principal, username=user.username, limit=20)
        return Template(
            "admin_account.html",
            context={
                **await _places(principal),
                "user": user,
                "role_labels": ROLE_LABELS,
                "roles": _role_choices(),
                "log": log,
                "himself": user.id == principal.id,
                "form": form,
                "values": values or {},
                "problems": problems or {},
                "saved": saved,
                "limits": {"edit": max_lengths(AccountEdit)},
            },
            status_code=status,
        )

    @post("/accounts/{user_id:int}", operation_id="admin_edit_account", status_code=200)
    async def edit_account(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        user_id: FromPath[int],
        data: FormData,
    ) -> Template:
        """Name, role, township, village: a change of role or place ends their sessions."""
        values, problems = parse_form(data, AccountEdit)
        if values is None:
            return await self._account_page(
                principal, user_id, form="edit", values=data, problems=problems, status=422
            )
        placed = values.role not in NO_TOWNSHIP
        change = UserUpdate(
            display_name=values.display_name,
            role=values.role,
            township_id=values.township_id if placed else None,
            village_id=values.village_id if placed and values.role in VILLAGE else None,
        )
        try:
            await accounts.update_user(actor_of(request, principal), user_id, change)
        except ValidationFailed as refused:
            return await self._account_page(
                principal,
                user_id,
                form="edit",
                values=data,
                problems=_errors(refused),
                status=422,
            )
        return await self._account_page(principal, user_id, saved="账号信息已保存。")

    @post("/accounts/{user_id:int}/active", operation_id="admin_account_active", status_code=200)
    async def set_active(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        user_id: FromPath[int],
        data: FormData,
    ) -> Template:
        """停用 (their sessions end at once) or 启用 again."""
        active = data.get("active") == "1"
        if not active and data.get("confirmed") != "yes":
            return await self._account_page(
                principal,
                user_id,
                form="active",
                problems={"confirmed": "请勾选“确认停用”"},
                status=422,
            )
        try:
            await accounts.update_user(
                actor_of(request, principal), user_id, UserUpdate(active=active)
            )
        except ValidationFailed as refused:
            return await self._account_page(
                principal, user_id, form="active", problems=_errors(refused), status=422
            )
        done = "账号已启用。" if active else "账号已停用，此人的登录已全部退出。"
        return await self._account_page(principal, user_id, saved=done)

    @post("/accounts/{user_id:int}/reset", operation_id="admin_account_reset", status_code=200)
    async def reset(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        user_id: FromPath[int],
        data: FormData,
    ) -> Template:
        """A temporary password, shown once; they choose their own at the next sign-in."""
        if data.get("confirmed") != "yes":
            return await self._account_page(
                principal,
                user_id,
                form="reset",
                problems={"confirmed": "请勾选“确认重置”"},
                status=422,
            )
        temporary = await accounts.reset_password(actor_of(request, principal), user_id)
        user = await accounts.get_user(principal, user_id)
        return _password_shown(user.id, user.username, user.display_name, temporary)

    # Importing from a spreadsheet -----------------------------------------------------

    @get("/import", operation_id="admin_import_page")
    async def import_page(self, principal: SignedIn) -> Template:
        """导入: the template to download, the file to check, then to import."""
        permissions.allowed(principal, "account.manage").check()
        return Template("admin_import.html", context={"result": None, "problem": None})

    @get("/import-template.xlsx", operation_id="admin_import_template_xlsx")
    async def template_xlsx(self, principal: SignedIn) -> Response[bytes]:
        permissions.allowed(principal, "account.manage").check()
        return download(await account_import.template_xlsx(), XLSX, "import-template.xlsx")

    @get("/import-template.csv", operation_id="admin_import_template_csv")
    async def template_csv(self, principal: SignedIn) -> Response[bytes]:
        permissions.allowed(principal, "account.manage").check()
        return download(account_import.template_csv(), "text/csv", "import-template.csv")

    @post(
        "/import",
        operation_id="admin_import",
        status_code=200,
        request_max_body_size=2 * account_import.MAX_BYTES,
    )
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        principal: SignedIn,
        publishing: CurrentPublishing,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        """检查 (nothing written) or 导入 (all or none). After a clean check the page keeps
        the file, so 确认导入 does not ask for it again; after the import it shows the
        usernames and first passwords once, with the printable sheet."""
        upload = data.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            content, filename = await upload.read(), upload.filename
        else:  # the file kept by the page after a clean check
            try:
                content = base64.b64decode(str(data.get("kept") or ""), validate=True)
            except binascii.Error:
                content = b""
            filename = str(data.get("kept_name") or "")[:200]
        dry_run = data.get("action") != "import"
        problem = None
        result = None
        try:
            if not content:
                raise ValidationFailed([{"field": "file", "message": "请选择要导入的文件"}])
            result = await account_import.import_accounts(
                actor_of(request, principal), content, filename, dry_run=dry_run
            )
        except (ValidationFailed, AlreadyExists) as refused:
            problem = _errors(refused).get("file") or refused.detail
        sheet = None
        if result is not None and result.created:
            pdf = await account_import.sheet_pdf(result.accounts, publishing.renderer)
            sheet = base64.b64encode(pdf).decode()
        return Template(
            "admin_import.html",
            context={
                "result": result,
                "problem": problem,
                "dry_run": dry_run,
                "filename": filename,
                "kept": base64.b64encode(content).decode()
                if result is not None and dry_run and not result.errors
                else "",
                "sheet": sheet,
            },
            status_code=422 if problem or (result is not None and result.errors) else 200,
            headers={"Cache-Control": "no-store"},
        )

    # The security log ---------------------------------------------------------------

    @get("/security-log", operation_id="admin_security_log_page")
    async def log(
        self,
        principal: SignedIn,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        username: Annotated[str | None, QueryParameter(max_length=64)] = None,
        date_from: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        date_to: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        """安全日志: sign-ins, sign-outs, password changes and every administrator's
        change, newest first, by kind, username and China dates."""
        errors: dict[str, str] = {}
        start, end = _day(date_from, "from", errors), _day(date_to, "to", errors)
        if start and end and end < start:
            # Said plainly, with no list (a reversed range would find nothing), as on the
            # board.
            errors["to"] = REVERSED_RANGE
            found = SecurityLogPage(items=[], total=0)
        else:
            found = await security_log.entries(
                principal,
                limit=LOG_PAGE,
                offset=(page - 1) * LOG_PAGE,
                kind=kind if kind in security_log.KIND_LABELS else None,
                username=username.strip() if username and username.strip() else None,
                date_from=start,
                date_to=end,
            )
        return Template(
            "admin_log.html",
            context={
                "log": found,
                "kinds": list(security_log.KIND_LABELS.items()),
                "kind": kind or "",
                "username": username or "",
                "date_from": date_from or "",
                "date_to": date_to or "",
                "errors": errors,
                "page": page,
                "pages": max(1, -(-found.total // LOG_PAGE)),
            },
            status_code=422 if errors else 200,
        )


PLACES_SAVED = {
    "township": "乡镇已保存。",
    "village": "村（社区）已保存。",
    "workflows": "提供的协商流程已保存，提出议题时即按新的选择提供。",
    "shuoshi": "说事日已保存。",
    "suggestions": "村民建议的附议比例、审核期限和不予列入依据已保存，此后即按新的设置。",
    "villagers": "登记村民人数已保存。",
}


def _day(raw: str | None, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 年-月-日\uff0c例如 2026-01-05"
        return None


def _password_shown(
    user_id: int, username: str, name: str, password: str, *, created: bool = False
) -> Template:
    """The first or temporary password, once: it is stored only as a hash."""
    return Template(
        "admin_password.html",
        context={
            "user_id": user_id,
            "username": username,
            "name": name,
            "password": password,
            "created": created,
        },
        headers={"Cache-Control": "no-store"},
    )
