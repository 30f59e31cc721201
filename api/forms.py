"""Page forms into the API's msgspec shapes, with problems named per field in Chinese."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
import msgspec.structs
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from api.errors import chinese_message

T = TypeVar("T")

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A page form's fields (the handler parameter ``data: FormData``)."""


def to_login(next_path: str) -> Redirect:
    """Where a page sends someone who is not signed in (and back afterwards)."""
    return Redirect(f"/login?next={next_path}", status_code=303)


_FIELD = re.compile(r"\$\.(\w+)|field `(\w+)`")


def parse_form(data: dict[str, Any], shape: type[T]) -> tuple[T | None, dict[str, str]]:
    """``(value, {})`` or ``(None, {field: problem})``. Empty fields count as not given;
    the CSRF token is not part of the shape."""
    given = {k: v for k, v in data.items() if k != "_csrf_token" and v not in ("", None)}
    # Every empty required field at once, not one per try.
    missing = {
        f.encode_name: "请填写此项"
        for f in msgspec.structs.fields(shape)  # type: ignore[arg-type]
        if f.required and f.encode_name not in given
    }
    if missing:
        return None, missing
    try:
        return msgspec.convert(given, shape, strict=False), {}
    except msgspec.ValidationError as error:
        text = str(error)
        match = _FIELD.search(text)
        field = (match.group(1) or match.group(2)) if match else "form"
        message = chinese_message(text)
        if message == "缺少必填字段":
            message = "请填写此项"
        return None, {field: message}
