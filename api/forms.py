"""Page forms into the API's msgspec shapes, with problems named per field in Chinese."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import msgspec
import msgspec.inspect
import msgspec.structs
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.errors import chinese_message

T = TypeVar("T")

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A page form's fields (the handler parameter ``data: FormData``)."""


_FIELD = re.compile(r"\$\.(\w+)|field `(\w+)`")


MISSING = "请填写此项"
"""The problem of an empty required field."""

MISSING_CHOICE = "请选择一项"
"""The problem of a required choice (a drop-down list, radio buttons) left unchosen."""


def _is_choice(annotation: Any) -> bool:
    """A field whose value is one of a fixed set (``Literal[...]``, possibly annotated)."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_origin(annotation) is Literal


def max_lengths(shape: type[Any]) -> dict[str, int]:
    """Each text field's longest value in an input shape (``{field: max_length}``), so
    a page form's ``maxlength`` is the API's limit, not a second number."""
    limits: dict[str, int] = {}
    info = msgspec.inspect.type_info(shape)
    assert isinstance(info, msgspec.inspect.StructType)
    for f in info.fields:
        kinds = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
        for kind in kinds:
            if isinstance(kind, msgspec.inspect.StrType) and kind.max_length is not None:
                limits[f.encode_name] = kind.max_length
    return limits


UNKNOWN = "表单内容有误\uff0c请刷新页面后重新填写"
"""A field the form's shape does not have (an old page, a hand-made post)."""


def parse_form(data: dict[str, Any], shape: type[T]) -> tuple[T | None, dict[str, str]]:
    """``(value, {})`` or ``(None, {field: problem})``. Empty fields count as not given;
    the CSRF token is not part of the shape. A problem with no field of the shape to
    stand next to is the form's (``"form"``)."""
    given = {k: v for k, v in data.items() if k != "_csrf_token" and v not in ("", None)}
    fields = msgspec.structs.fields(shape)  # type: ignore[arg-type]
    # Every empty required field at once, not one per try.
    missing = {
        f.encode_name: MISSING_CHOICE if _is_choice(f.type) else MISSING
        for f in fields
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
        if field not in {f.encode_name for f in fields}:
            return None, {"form": UNKNOWN}
        message = chinese_message(text)
        if message == "缺少必填字段":
            message = MISSING
        return None, {field: message}
