"""The one mapping point from errors to RFC 9457 problem details with a ``code``."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from deliberation.errors import (
    DOMAIN_ERRORS,
    DomainError,
    PasswordChangeRequired,
    RateLimited,
    ValidationFailed,
)

logger = logging.getLogger("deliberation.api")

PROBLEM_JSON = "application/problem+json"

STATUS_OF_CODE: dict[str, int] = {
    **{error.code: error.status for error in DOMAIN_ERRORS},
    "method_not_allowed": 405,
    "internal_error": 500,
    # Answered by the server's protocol, before the application (api/serving.py).
    "request_timeout": 408,
    "server_busy": 503,
}
"""Each domain error class carries its code and status; the codes only the web layer
raises are added here."""

TITLES: dict[str, str] = {
    "bad_request": "请求格式错误",
    "unauthenticated": "未登录或登录已过期",
    "forbidden": "无权执行此操作",
    "not_found": "未找到",
    "method_not_allowed": "不支持此请求方法",
    "payload_too_large": "请求内容过大",
    "validation_error": "输入有误",
    "internal_error": "服务器内部错误",
    "request_timeout": "请求超时",
    "server_busy": "服务器繁忙",
}


def problem_fields(
    code: str, detail: str, *, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem details (RFC 9457) of ``code``: what every error answer carries."""
    return {
        "type": "about:blank",
        "status": STATUS_OF_CODE[code],
        "title": title or TITLES.get(code, code),
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body = problem_fields(code, detail, title=title, **extra)
    return Response(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def problem_bytes(code: str, detail: str) -> bytes:
    """The problem details of ``code`` as the bytes of a body (answers sent below the
    application: the middleware's, the server protocol's)."""
    return json.dumps(problem_fields(code, detail), ensure_ascii=False).encode()


async def send_problem(
    send: Any, code: str, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """Answer ``code`` with its problem details straight through ASGI ``send``."""
    body = problem_bytes(code, detail)
    await send(
        {
            "type": "http.response.start",
            "status": STATUS_OF_CODE[code],
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# msgspec's messages, put into Chinese for the ``errors`` list and ``detail``.
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Object missing required field `(?P<f>[^`]+)`"), "缺少必填字段"),
    (re.compile(r"Object contains unknown field `(?P<f>[^`]+)`"), "不认识的字段"),
    (re.compile(r"Expected `str` of length <= (?P<n>\d+)"), "长度不能超过 {n} 个字符"),
    (re.compile(r"Expected `str` of length >= (?P<n>\d+)"), "长度不能少于 {n} 个字符"),
    (re.compile(r"Expected `str` matching regex"), "不能为空或格式不正确"),
    (re.compile(r"Expected `array` of length <= (?P<n>\d+)"), "最多 {n} 项"),
    (re.compile(r"Expected `array` of length >= (?P<n>\d+)"), "至少 {n} 项"),
    (re.compile(r"Expected `int` >= (?P<n>-?\d+)"), "不能小于 {n}"),
    (re.compile(r"Expected `int` <= (?P<n>-?\d+)"), "不能大于 {n}"),
    (re.compile(r"Invalid enum value '(?P<v>[^']*)'"), "取值无效"),
    (re.compile(r"Invalid RFC3339 encoded datetime"), "日期时间格式应为 ISO 8601（含时区）"),
    (re.compile(r"Expected `datetime` with a timezone"), "日期时间必须包含时区"),
    (re.compile(r"Invalid RFC3339 encoded date"), "日期格式应为 YYYY-MM-DD"),
    (re.compile(r"Expected `(?P<t>[^`]+)`, got `(?P<g>[^`]+)`"), "类型错误：应为 {t}，实际为 {g}"),
]


def _field_of(key: str, message: str) -> str:
    match = re.search(r"field `([^`]+)`", message)
    if key in ("data", "", None) and match:
        return match.group(1)
    return key or "body"


def chinese_message(message: str) -> str:
    for pattern, template in _MESSAGES:
        match = pattern.search(message)
        if match:
            return template.format(**match.groupdict())
    return message


def validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    raw = exc.extra if isinstance(exc.extra, list) else []
    errors = []
    for item in raw:
        if isinstance(item, dict):
            message = str(item.get("message", ""))
            if message == "'data'":  # no body at all
                errors.append({"field": "body", "message": "缺少请求体（JSON）", "source": "body"})
                continue
            errors.append(
                {
                    "field": _field_of(str(item.get("key", "")), message),
                    "message": chinese_message(message),
                    "source": str(item.get("source", "body")),
                }
            )
    return errors or [{"field": "body", "message": "输入无效", "source": "body"}]


def summarise(errors: list[dict[str, str]]) -> str:
    return "输入有误：" + "；".join(f"{e['field']} {e['message']}" for e in errors)


PAGE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("无法处理", "请返回上一页检查填写的内容后再试。"),
    401: ("需要登录", "请先登录\uff0c再打开这个页面。"),
    403: ("无权操作", "如需办理此事项\uff0c请联系镇政协工作人员\uff1b如果您有权限\uff0c请先登录。"),
    404: ("未找到", "请核对网址是否完整\uff0c或从首页重新进入。"),
    405: ("不支持此操作", "请从页面上的按钮进入\uff0c不要直接打开这个地址。"),
    409: ("信息已变化", "请刷新页面\uff0c看到最新情况后再操作。"),
    413: ("内容过多", "请删减后再提交。"),
    422: ("填写有误", "请返回上一页修改后再提交。"),
    429: ("尝试次数过多", "请稍等几分钟再试。"),
    500: ("出错了", "服务器出了问题\uff0c请稍后再试\uff1b如果一直出现\uff0c请联系镇政协工作人员。"),
}


def _htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    """A person in a browser on a page (not the API): they get a page, not JSON."""
    path = request.scope.get("path", "")
    if path.startswith(("/api/", "/schema", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "") or _htmx(request)


def page_error(status: int) -> tuple[str, str]:
    """A page's title and what to do next for an HTTP status."""
    return PAGE_ERRORS.get(status, PAGE_ERRORS[400 if status < 500 else 500])


def _page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    title, advice = page_error(status)
    # htmx asked for a part of the page: the error page takes the whole page instead.
    headers = {"HX-Retarget": "body", "HX-Reswap": "innerHTML"} if _htmx(request) else None
    # A Template response, like every page: its header (a signed-in person's sign-out
    # form) needs what the template engine adds, the CSRF field among it.
    return ErrorPage(
        "error.html",
        context={"title": title, "message": message, "advice": advice},
        status_code=status,
        headers=headers,
    )


class ErrorPage(Template):
    """An error page whose header knows who is signed in, wherever it is answered from:
    an exception handler is called synchronously and, for an address no page handler
    took, before anything read the session; the session is read as the page is sent."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> Any:
        from api.pages.signin import remember_viewer_for_error

        render = super().to_asgi_response

        async def respond(scope: Any, receive: Any, send: Any) -> None:
            await remember_viewer_for_error(request)
            await render(app, request, **kwargs)(scope, receive, send)

        return respond


def _answer(request: Request[Any, Any, Any], problem_response: Response[Any]) -> Response[Any]:
    """The problem details for the API; the same problem as a page for a browser."""
    if not _wants_page(request):
        return problem_response
    body = problem_response.content
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    page = _page(request, problem_response.status_code or 500, str(detail))
    for name in ("Allow", "Retry-After"):
        if name in problem_response.headers:
            page.headers[name] = problem_response.headers[name]
    return page


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, PasswordChangeRequired) and not request.url.path.startswith("/api/"):
        return Redirect("/me/password", status_code=303)  # a page: to the password form
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    extra = dict(exc.extra)
    if isinstance(exc, ValidationFailed):
        extra["errors"] = exc.errors
    return _answer(
        request, problem(exc.code, exc.detail, title=exc.title, headers=headers, **extra)
    )


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = validation_errors(exc)
    return _answer(request, problem("validation_error", summarise(errors), errors=errors))


def _http_problem(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) or status == 401:
        return problem("unauthenticated", "请先登录（缺少或无效的访问令牌）")
    if isinstance(exc, PermissionDeniedException) or status == 403:
        return problem("forbidden", "无权执行此操作")
    if isinstance(exc, NotFoundException) or status == 404:
        return problem("not_found", "请求的资源不存在")
    if isinstance(exc, MethodNotAllowedException) or status == 405:
        allow = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
        return problem(
            "method_not_allowed",
            "不支持此请求方法",
            headers={"Allow": allow} if allow else None,
        )
    if status == 413:
        return problem("payload_too_large", "请求内容超过 1 MiB 的上限")
    if isinstance(exc, ClientException) or 400 <= status < 500:
        return problem(
            "bad_request", "请求格式错误：请发送合法的 JSON（Content-Type: application/json）"
        )
    logger.error("http exception %s: %s", status, exc.detail)
    return problem("internal_error", "服务器内部错误，请稍后重试")


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    answer = _http_problem(request, exc)
    if _wants_page(request) and exc.status_code == 403 and "CSRF" in str(exc.detail):
        return _page(request, 403, "无法提交\uff1a页面已过期\uff0c或不是从本站页面提交的。")
    return _answer(request, answer)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _answer(request, problem("internal_error", "服务器内部错误，请稍后重试"))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation,
    HTTPException: handle_http_exception,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected,
    Exception: handle_unexpected,
}
