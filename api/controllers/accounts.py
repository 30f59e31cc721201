from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from msgspec import UnsetType

from api.auth import CurrentPrincipal, policy_guard
from api.dependencies import CurrentPublishing
from api.middleware import client_of
from api.paging import PAGED, CurrentWindow, paged
from deliberation import account_import, accounts, security_log, shuoshi_day
from deliberation.errors import ValidationFailed
from deliberation.schemas import (
    ImportRead,
    MeRead,
    PasswordChange,
    Role,
    SecurityLogPage,
    TemporaryPassword,
    TokenRequest,
    TokenResponse,
    TownshipCreate,
    TownshipRead,
    TownshipUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
    VillageCreate,
    VillageRead,
    VillageUpdate,
)
from deliberation.security import Principal
from deliberation.security_log import Actor

admin_only = policy_guard("account.manage")
T = TypeVar("T")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def actor_of(request: Request[Any, Any, Any], principal: Principal) -> Actor:
    """The administrator making a change, and where from (for the security log)."""
    return Actor(principal, client_of(request))


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post(
        "/auth/token", operation_id="issue_token", status_code=200, opt={"exclude_from_auth": True}
    )
    async def issue_token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenResponse:
        settings = request.app.state.settings
        signed_in = await accounts.sign_in(
            data.username, data.password, client_of(request), request.app.state.login_limits, "api"
        )
        return TokenResponse(
            access_token=request.app.state.token_issuer.issue(signed_in.principal),
            token_type="bearer",
            expires_in=settings.token_ttl_seconds,
            user=signed_in.user,
            must_change_password=signed_in.must_change_password,
        )

    @post("/auth/logout", operation_id="logout_api", status_code=204)
    async def logout(self, request: Request[Any, Any, Any], principal: CurrentPrincipal) -> None:
        """Ends this token's session (and the page session it is) on every process."""
        await accounts.sign_out(principal, client_of(request))

    @get("/me", operation_id="me")
    async def me(self, principal: CurrentPrincipal) -> MeRead:
        """The account, and ``offered_workflows``: the workflows it may open a topic in
        (offered by its township or some of its villages, naming its role among the
        openers; docs/workflows.md, "Which workflows a township offers")."""
        return await accounts.me(principal)

    @put("/me/password", operation_id="change_my_password", status_code=204)
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[PasswordChange],
    ) -> None:
        """Every other session of the account ends; this one goes on."""
        await accounts.change_password(
            principal, data, client_of(request), request.app.state.login_limits
        )


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]
    guards = [admin_only]

    @post("/", operation_id="create_user")
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[UserCreate],
    ) -> UserRead:
        return await accounts.create_user(data, actor_of(request, principal))

    @get("/", operation_id="list_users", **PAGED)
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        window: CurrentWindow,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        role: Annotated[Role | None, QueryParameter()] = None,
        township_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[list[UserRead]]:
        """Every account, or those whose username or name contains ``q``, of a role, of a
        township; in the order they were made, a page at a time."""
        page = await accounts.page_users(principal, window, q=q, role=role, township_id=township_id)
        return paged(request, page)

    @post(
        "/import",
        operation_id="import_users",
        status_code=200,
        request_max_body_size=account_import.MAX_BYTES + 64 * 1024,
    )
    async def import_users(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        dry_run: Annotated[bool, QueryParameter()] = False,
        answer: Annotated[Literal["json", "pdf"], QueryParameter(name="format")] = "json",
    ) -> ImportRead | Response[bytes]:
        """Accounts from an .xlsx, .xls (Excel 97–2003, at most 2 MB) or .csv file (columns
        姓名, 用户名, 角色, 乡镇, 村（社区）, 手机号; the header within the first 10 rows,
        merged cells read as their top-left value): every bad row and column listed; all
        rows created, or none.
        ``dry_run=true`` only checks. ``format=pdf`` answers a real run with the printable
        sheet of usernames and first passwords instead of JSON."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed([{"field": "file", "message": "请选择要导入的文件"}])
        content = await upload.read()
        result = await account_import.import_accounts(
            actor_of(request, principal), content, upload.filename or "", dry_run=dry_run
        )
        if answer == "pdf" and result.created:
            pdf = await account_import.sheet_pdf(result.accounts, publishing.renderer)
            return Response(
                pdf,
                media_type="application/pdf",
                headers={
                    "Cache-Control": "no-store",
                    "Content-Disposition": 'attachment; filename="accounts.pdf"',
                },
            )
        return account_import.as_read(result, dry_run=dry_run)

    @get("/import-template.xlsx", operation_id="import_template_xlsx", media_type=XLSX)
    async def import_template_xlsx(self) -> Response[bytes]:
        """The file to fill in, with the columns, an example row and how to fill them."""
        return download(await account_import.template_xlsx(), XLSX, "import-template.xlsx")

    @get("/import-template.csv", operation_id="import_template_csv", media_type="text/csv")
    async def import_template_csv(self) -> Response[bytes]:
        """The same columns as CSV (UTF-8 with a BOM, so Excel opens it right)."""
        return download(account_import.template_csv(), "text/csv", "import-template.csv")

    @patch("/{user_id:int}", operation_id="update_user")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        user_id: FromPath[int],
        data: JSONBody[UserUpdate],
    ) -> UserRead:
        """Deactivating, or changing role, township or village, ends the account's
        sessions at once."""
        return await accounts.update_user(actor_of(request, principal), user_id, data)

    @post("/{user_id:int}/password-reset", operation_id="reset_password", status_code=200)
    async def reset_password(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, user_id: FromPath[int]
    ) -> TemporaryPassword:
        """A temporary password, shown once; the account must choose a new one."""
        temporary = await accounts.reset_password(actor_of(request, principal), user_id)
        return TemporaryPassword(temporary_password=temporary)


def download(
    body: bytes, media_type: str, filename: str, ascii_filename: str | None = None
) -> Response[bytes]:
    """An attachment named ``filename``; a name that is not ASCII is sent as RFC 6266's
    ``filename*`` (RFC 5987, UTF-8), with ``ascii_filename`` for clients that ignore it."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(filename, ascii_filename)},
    )


def content_disposition(filename: str, ascii_filename: str | None = None) -> str:
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    fallback = ascii_filename or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class SecurityLogController(Controller):
    path = "/api/v1/security-log"
    tags = ["accounts"]
    guards = [admin_only]

    @get("/", operation_id="security_log")
    async def security_log(
        self,
        principal: CurrentPrincipal,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
        kind: Annotated[str | None, QueryParameter(max_length=40)] = None,
        username: Annotated[str | None, QueryParameter(max_length=64)] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
    ) -> SecurityLogPage:
        """Newest first; ``from`` and ``to`` are China dates, both included."""
        return await security_log.entries(
            principal,
            limit=limit,
            offset=offset,
            kind=kind,
            username=username,
            date_from=date_from,
            date_to=date_to,
        )


class TownshipController(Controller):
    path = "/api/v1/townships"
    tags = ["accounts"]

    @post("/", operation_id="create_township", guards=[admin_only])
    async def create_township(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[TownshipCreate],
    ) -> TownshipRead:
        return await accounts.create_township(data.name, actor_of(request, principal))

    @get("/", operation_id="list_townships")
    async def list_townships(self, principal: CurrentPrincipal) -> list[TownshipRead]:
        return await accounts.list_townships(principal)

    @patch("/{township_id:int}", operation_id="rename_township", guards=[admin_only])
    async def update_township(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        township_id: FromPath[int],
        data: JSONBody[TownshipUpdate],
    ) -> TownshipRead:
        """A new ``name``, and/or the township-scope ``workflows`` it offers (all of them:
        the list replaces the one before). A key no loaded workflow has, or one of a
        village-scope workflow, is a 422 ``validation_error`` naming it. The settings of
        villagers' suggestions: the threshold divisors, the screening working days and
        the decline grounds."""
        return await accounts.update_township(
            township_id,
            actor_of(request, principal),
            name=_given(data.name),
            workflows=_given(data.workflows),
            suggestions=accounts.SuggestionSettings(
                representatives_divisor=_given(data.threshold_representatives_divisor),
                villagers_divisor=_given(data.threshold_villagers_divisor),
                screening_working_days=_given(data.screening_working_days),
                decline_grounds=_given(data.decline_grounds),
            ),
        )


class VillageController(Controller):
    path = "/api/v1/villages"
    tags = ["accounts"]

    @post("/", operation_id="create_village", guards=[admin_only])
    async def create_village(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[VillageCreate],
    ) -> VillageRead:
        return await accounts.create_village(
            data.name, data.township_id, actor_of(request, principal)
        )

    @get("/", operation_id="list_villages")
    async def list_villages(self, principal: CurrentPrincipal) -> list[VillageRead]:
        return await accounts.list_villages(principal)

    @patch("/{village_id:int}", operation_id="rename_village", guards=[admin_only])
    async def update_village(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        village_id: FromPath[int],
        data: JSONBody[VillageUpdate],
    ) -> VillageRead:
        """A new ``name``, the village-scope ``workflows`` it offers (四议两公开 is offered
        per village), its 说事日 (``shuoshi_day``), and/or its registered villagers
        (``registered_villagers``, the roster of the one-tenth rule); as the
        township's."""
        actor = actor_of(request, principal)
        if not isinstance(data.name, UnsetType) or not isinstance(data.workflows, UnsetType):
            await accounts.update_village(
                village_id, actor, name=_given(data.name), workflows=_given(data.workflows)
            )
        if not isinstance(data.shuoshi_day, UnsetType):
            await shuoshi_day.set_shuoshi_day(village_id, data.shuoshi_day, actor)
        if not isinstance(data.registered_villagers, UnsetType):
            await accounts.set_registered_villagers(village_id, data.registered_villagers, actor)
        return await shuoshi_day.read_village(village_id)


def _given(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value
