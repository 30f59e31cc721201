"""The OpenAPI document, made to tell the truth (api.md v1.1).

Litestar describes each operation's success answer and a generic 400 (whose schema is
not the problem details we send). Here, once the routes are known, every operation gets
the 4xx answers it can give as ``application/problem+json`` with the one problem
schema, the bearer security scheme where a token is needed, and ``additionalProperties:
false`` on every request body the server refuses unknown fields in (the ``Input``
shapes)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

from api.auth import PUBLIC_PATHS
from deliberation.schemas import Input
from workflows import WORKFLOW

TITLE = "Hao Shangliang API"
"""ASCII, so generated clients get a name pip accepts; the Chinese name is in the text."""
DESCRIPTION = (
    "好商量 — 协商议事流程引擎 (consultation deliberation workflow) API v1. "
    "Errors are RFC 9457 problem details (`application/problem+json`) with a `code`."
)

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `detail` is in Chinese, `code` is stable.",
    "required": ["type", "status", "title", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": (
                "For `validation_error`, `file_too_large` and `unsafe_file`: each field "
                "and what is wrong with it."
            ),
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "source": {"type": "string"},
                },
            },
        },
    },
}

WHY: dict[int, str] = {
    400: "Unreadable request: not JSON, not UTF-8, a NUL character, nested too deep",
    401: "No token, or its session ended (signed out, password changed, account changed)",
    403: "The role may not do this, or a new password must be chosen first",
    404: "Not found, or in another township",
    409: "Changed meanwhile (stale version), not from this state, or already exists",
    413: "Request body over the size limit",
    422: "Invalid input; `errors` names each field",
    429: "Too many failed sign-ins; `Retry-After` says when to try again",
}

_NEVER_SIGNED_IN = re.compile(r"^/(healthz|api/v1/workflow|api/v1/public/)")
_NO_CONFLICT = re.compile(r"^/api/v1/(auth/|me/password)")
_RATE_LIMITED = re.compile(r"^/api/v1/(auth/token|me/password)$")
_PUBLIC = [re.compile(p) for p in PUBLIC_PATHS]
_NAMED_IN_QUERY = re.compile(r"^/api/v1/(statistics|ledger\.xlsx)$")
"""Operations whose query names something that may not exist (a township): 404."""
_STAGE_BOUND_READS = re.compile(r"^/api/v1/topics/\{[^}]+\}/archive$")
"""Reads refused while the topic is at another stage (the bag of an unfinished topic): 409."""


def _sample(path: str) -> str:
    """A concrete path for a template (``{document_id}`` → ``1``), to match the
    public-path patterns against."""
    return re.sub(r"\{[^}]+\}", "1", path)


ENUMS: dict[str, list[str]] = {"state": list(WORKFLOW.state_names)}
"""Query parameters whose values come from the workflow declaration."""


def _answers(path: str, operation: dict[str, Any]) -> set[int]:
    statuses = {400, 422}
    if not _NEVER_SIGNED_IN.match(path):
        statuses |= {401, 403}  # public reads of drafts and PDFs still check a token given
    if "{" in path or _NAMED_IN_QUERY.match(path):
        statuses.add(404)
    if "requestBody" in operation:
        statuses.add(413)
        if not _NO_CONFLICT.match(path):
            statuses.add(409)
    if _RATE_LIMITED.match(path):
        statuses.add(429)
    if _STAGE_BOUND_READS.match(path):
        statuses.add(409)
    return statuses


def _input_names() -> set[str]:
    found, todo = set(), list(Input.__subclasses__())
    while todo:
        shape = todo.pop()
        found.add(shape.__name__)
        todo.extend(shape.__subclasses__())
    return found


def tell_the_truth(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete a generated OpenAPI document (in place; also returned)."""
    schema["info"]["title"] = TITLE
    schema["info"]["description"] = DESCRIPTION
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "POST /api/v1/auth/token gives one; it ends with its session.",
        }
    }
    for name in _input_names() & set(components["schemas"]):
        components["schemas"][name]["additionalProperties"] = False
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for name, shape in components["schemas"].items():
        if name.endswith("Patch") and "reason" in shape.get("properties", {}):
            shape["minProperties"] = 2  # the reason and at least one changed field
    for path, item in schema.get("paths", {}).items():
        public = any(p.match(_sample(path)) for p in _PUBLIC)
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if not public:
                operation["security"] = [{"bearer": []}]
            elif _NEVER_SIGNED_IN.match(path) or path == "/api/v1/auth/token":
                operation["security"] = []
            else:  # public, but a token given is checked (a draft's PDF for its staff)
                operation["security"] = [{}, {"bearer": []}]
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in ENUMS and parameter.get("in") == "query":
                    parameter["schema"] = {"type": "string", "enum": ENUMS[parameter["name"]]}
            responses = operation["responses"]
            for status in list(responses):
                if status.startswith("4"):
                    del responses[status]
            for status in sorted(_answers(path, operation)):
                responses[str(status)] = {
                    "description": WHY[status],
                    "content": {"application/problem+json": problem},
                }
    return schema


def finish_openapi(app: Litestar) -> None:
    """Build the document once the routes are known, and complete it."""
    plugin = app.plugins.get(OpenAPIPlugin)
    tell_the_truth(plugin.provide_openapi_schema())
