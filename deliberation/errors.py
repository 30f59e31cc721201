"""One domain error hierarchy. Services raise these; ``api/errors.py`` maps them to
RFC 9457 problem details, reading each class's ``code`` and HTTP ``status``. ``detail``
is user-facing, so it is in Chinese."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "请求无法完成"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(DomainError):
    code = "bad_request"
    status = 400
    title = "请求格式错误"


class BadPage(BadRequest):
    """A list's ``limit`` or ``after`` is not one it can page by (docs/decisions.md,
    "Paged lists")."""

    code = "bad_page"
    title = "分页参数有误"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    title = "未登录或登录已过期"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "无权执行此操作"


class PasswordChangeRequired(DomainError):
    """After an administrator's reset: nothing but choosing a new password."""

    code = "password_change_required"
    status = 403
    title = "请先修改密码"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "未找到"


class AlreadyExists(DomainError):
    code = "already_exists"
    status = 409
    title = "已存在"


class StaleVersion(DomainError):
    code = "stale_version"
    status = 409
    title = "议题已被他人更新"


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status = 409
    title = "当前状态下不能执行此操作"


class WorkflowUnavailable(DomainError):
    """A write to a topic pinned to a workflow version that is not loaded (its file
    removed, or another folder served): nothing is written (docs/decisions.md, "A
    workflow removed from the folder")."""

    code = "workflow_not_loaded"
    status = 409
    title = "议题所用的协商流程未加载"


class AlreadyUrged(DomainError):
    """An urge of a topic within the window of the one before (docs/decisions.md,
    "Holds under load"): nothing is written, nothing is sent."""

    code = "already_urged"
    status = 409
    title = "议题刚督办过"


class AlreadySupported(DomainError):
    """A second support of a suggestion by the same account: nothing is written."""

    code = "already_supported"
    status = 409
    title = "已附议"


class StageClosed(DomainError):
    code = "stage_closed"
    status = 409
    title = "当前阶段不能添加此记录"


class SuggestionScreened(DomainError):
    """A villager's suggestion already screened: no more supports, no second screening
    (issue 27, docs/api.md)."""

    code = "screened"
    status = 409
    title = "该建议已审核"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    title = "请求内容过大"


class ValidationFailed(DomainError):
    """``errors`` lists ``{"field": ..., "message": ...}`` items."""

    code = "validation_error"
    status = 422
    title = "输入有误"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        summary = detail or "；".join(f"{e['field']}：{e['message']}" for e in errors)
        super().__init__(summary, errors=errors)
        self.errors = errors


class FileTooLarge(ValidationFailed):
    """An uploaded file over a limit of what reading it may cost (its size unpacked, the
    rows, columns or cells it declares or holds); ``detail`` names the file and the limit."""

    code = "file_too_large"
    title = "文件超出导入上限"


class UnsafeFile(ValidationFailed):
    """An uploaded file whose XML declares a DTD or entities (which could read a file on
    the server or expand a billion-fold): refused unread."""

    code = "unsafe_file"
    title = "文件含有不安全的内容"


class ConditionFailed(DomainError):
    code = "condition_failed"
    status = 422
    title = "条件未满足"


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "尝试次数过多"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


DOMAIN_ERRORS: tuple[type[DomainError], ...] = (
    BadRequest,
    BadPage,
    Unauthenticated,
    Forbidden,
    PasswordChangeRequired,
    NotFound,
    AlreadyExists,
    StaleVersion,
    TransitionNotAllowed,
    AlreadyUrged,
    AlreadySupported,
    SuggestionScreened,
    WorkflowUnavailable,
    StageClosed,
    PayloadTooLarge,
    ValidationFailed,
    FileTooLarge,
    UnsafeFile,
    ConditionFailed,
    RateLimited,
)
