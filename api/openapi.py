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
    409: "Changed meanwhile (stale version), not from this state, already exists, or "
    "the topic's workflow version is not loaded (`workflow_not_loaded`)",
    413: "Request body over the size limit",
    422: "Invalid input; `errors` names each field",
    429: "Too many failed sign-ins; `Retry-After` says when to try again",
}

_NEVER_SIGNED_IN = re.compile(r"^/(healthz|api/v1/workflow|api/v1/public/(?!chain-heads))")
"""Paths that never read a token (the chain heads do: staff and the county signed in get
every suggestion's and plan's head, issue 27)."""
_NO_CONFLICT = re.compile(r"^/api/v1/(auth/|me/password)")
_RATE_LIMITED = re.compile(r"^/api/v1/(auth/token|me/password)$")
RATE_LIMITED_OPERATIONS: dict[str, str] = {
    "create_suggestion": "Too many suggestions from this client address, phone number or "
    "account within the window; `Retry-After` says when to try again",
}
"""Operations limited otherwise than sign-ins, and what their 429 means."""
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
BODY_ENUMS: dict[tuple[str, str], list[str]] = {
    ("TransitionRequest", "trigger"): list(dict.fromkeys(WORKFLOW.triggers)),
}
"""Request body fields whose values come from the workflow declaration."""

LICENSE = {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}
"""As ``pyproject.toml`` says."""

TEXT_TYPES = ("application/json", "application/problem+json", "text/")
"""Answers read as text (JSON, the diagram, the CSV template); every other media type
(PDF, ZIP, XLSX) is a file."""
BINARY = {"type": "string", "format": "binary"}
ANY_FILE = "application/octet-stream"
"""Listed after a file's own media type: generators that know no other file type
(openapi-python-client without config) then still hand back the bytes as a file."""
EXTRA_ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/users/import", "post"): {
        "200": {
            "description": (
                "The result as JSON; with `format=pdf` and accounts created, the printable "
                "sheet of usernames and first passwords"
            ),
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ImportRead"}},
                "application/pdf": {"schema": BINARY},
                ANY_FILE: {"schema": BINARY},
            },
        }
    },
    ("/api/v1/documents/{document_id}/pdf", "get"): {
        "304": {"description": "Not modified: `If-None-Match` named the published PDF's ETag"}
    },
}
"""Answers Litestar cannot see from a handler's signature (a union with a file, a 304)."""

NO_NUL = "^[^\\u0000]*$"
NON_BLANK_NO_NUL = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
"""The input guard refuses NUL in every query and JSON string (400); said as patterns.
``NonBlank``'s ``\\S`` becomes "a character that is neither space nor NUL"."""
IN_RANGE = "^20[0-9]{2}-"
"""Typed dates are refused outside 2000–2099 (``deliberation/validation.py``)."""
CHECKED_DATES = {"visited_on", "held_on", "due_date", "scheduled_at"}
"""The Input fields that ``check_dates`` holds to 2000–2099."""


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
    if _RATE_LIMITED.match(path) or operation.get("operationId") in RATE_LIMITED_OPERATIONS:
        statuses.add(429)
    if _STAGE_BOUND_READS.match(path):
        statuses.add(409)
    return statuses


def _single(schema: Any) -> Any:
    """Every ``oneOf`` of one member (what ``X | UnsetType`` leaves) made that member, so
    linters and generators see a plain schema."""
    if isinstance(schema, list):
        return [_single(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _single(value) for key, value in schema.items()}
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and len(one_of) == 1 and isinstance(one_of[0], dict):
        del schema["oneOf"]
        schema = {**one_of[0], **schema}
    return schema


def _no_nul(schema: dict[str, Any], name: str = "") -> None:
    """Patterns on a string schema (in place): no NUL; checked dates within 2000–2099."""
    if schema.get("type") != "string" or "enum" in schema:
        return
    if schema.get("format") in ("date", "date-time"):
        if name in CHECKED_DATES:
            schema["pattern"] = IN_RANGE
        return
    if schema.get("format") == "binary":
        return
    pattern = schema.get("pattern")
    if pattern is None:
        schema["pattern"] = NO_NUL
    elif pattern == "\\S":
        schema["pattern"] = NON_BLANK_NO_NUL


def _each_string(schema: Any, name: str = "") -> None:
    if isinstance(schema, dict):
        _no_nul(schema, name)
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for field, inner in value.items():
                    _each_string(inner, field)
            elif key in ("items", "oneOf", "anyOf", "allOf"):
                _each_string(value, name)
    elif isinstance(schema, list):
        for item in schema:
            _each_string(item, name)


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
    schema["info"]["license"] = LICENSE
    schema["paths"] = _single(schema.get("paths", {}))
    components = schema.setdefault("components", {})
    components["schemas"] = _single(components.get("schemas", {}))
    components["schemas"]["Problem"] = PROBLEM
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
        _each_string(components["schemas"][name])
    for (name, field), values in BODY_ENUMS.items():
        components["schemas"][name]["properties"][field]["enum"] = values
        components["schemas"][name]["properties"][field].pop("pattern", None)
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for name, shape in components["schemas"].items():
        if name.endswith("Patch") and "reason" in shape.get("properties", {}):
            shape["minProperties"] = 2  # the reason and at least one changed field
    for path, item in schema.get("paths", {}).items():
        public = any(p.match(_sample(path)) for p in _PUBLIC)
        for method, operation in item.items():
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
                elif parameter.get("in") == "query":
                    _each_string(parameter.get("schema"))
            responses = operation["responses"]
            for answer in responses.values():
                for header in answer.get("headers", {}).values():  # ``Link`` on paged lists
                    header.setdefault("schema", {"type": "string"})
                content = answer.get("content", {})
                files = [t for t in content if not t.startswith(TEXT_TYPES)]
                for media_type in files:
                    content[media_type] = {"schema": dict(BINARY)}
                if files:
                    content[ANY_FILE] = {"schema": dict(BINARY)}
            responses.update(EXTRA_ANSWERS.get((path, method), {}))
            for status in list(responses):
                if status.startswith("4"):
                    del responses[status]
            for status in sorted(_answers(path, operation)):
                why = WHY[status]
                if status == 429:
                    why = RATE_LIMITED_OPERATIONS.get(operation.get("operationId", ""), why)
                responses[str(status)] = {
                    "description": why,
                    "content": {"application/problem+json": problem},
                }
    return schema


def finish_openapi(app: Litestar) -> None:
    """Build the document once the routes are known, and complete it."""
    plugin = app.plugins.get(OpenAPIPlugin)
    tell_the_truth(plugin.provide_openapi_schema())
