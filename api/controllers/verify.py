"""``/verify/{id}``: the page a printed QR code opens, and its hash check."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from api.dependencies import CurrentPublishing
from deliberation import deadlines, documents
from deliberation.clock import CHINA, china_date, chinese_date
from deliberation.documents import Publishing
from deliberation.documents.content import COUNTY_ISSUER, issuer_name
from deliberation.documents.service import PROVISIONAL_NOTE, Verification
from deliberation.errors import NotFound
from deliberation.workdays import working_days

MAX_UPLOAD = 50 * 1024 * 1024
HEX64 = re.compile(r"[0-9a-f]{64}")


def _shape_problem(digest: str) -> str:
    if len(digest) != 64:
        return f"SHA-256 哈希值应为 64 位，您填写的是 {len(digest)} 位，请检查是否复制完整。"
    return "SHA-256 哈希值只含数字 0–9 和字母 a–f，请检查是否复制有误。"


async def _page(
    check: dict[str, Any] | None,
    found: Verification | None,
    **extra: Any,
) -> dict[str, Any]:
    context: dict[str, Any] = {"missing": found is None, "draft": bool(found and found.draft)}
    doc = found.document if found else None
    context["doc"] = doc
    context["check"] = check
    if doc is not None:
        context["issuer"] = issuer_name(doc.township_name) if doc.township_name else COUNTY_ISSUER
        # 协商计划：2027年度 黄金埠镇 第2版 (the county's plan: 全县).
        context["plan_line"] = (
            f"{doc.plan_year}年度 {doc.township_name or '全县'} 第{doc.plan_version}版"
            if doc.plan_id
            else ""
        )
        context["published_on"] = (
            chinese_date(china_date(doc.published_at)) if doc.published_at else ""
        )
        # The period in its parts, so the page keeps each date on one line.
        context["posting"] = (
            (
                chinese_date(doc.posting_starts_on),
                chinese_date(doc.posting_ends_on),
                PROVISIONAL_NOTE if doc.posting_provisional else "",
            )
            if doc.posting_starts_on and doc.posting_ends_on
            else None
        )
        # How far the period is from its end (公示还剩 N 个工作日 / 公示已结束), as on the
        # board; a revoked notice's period no longer runs.
        context["posting_left"] = (
            deadlines.posting_left(doc.posting_ends_on, calendar=await working_days())
            if doc.posting_ends_on and not doc.revoked_at
            else None
        )
        context["revoked_on"] = (
            chinese_date(doc.revoked_at.astimezone(CHINA).date()) if doc.revoked_at else ""
        )
    context.update(extra)
    return context


class VerifyController(Controller):
    path = "/verify"
    tags = ["public"]
    opt = {"exclude_from_auth": True, "page": True}
    include_in_schema = False

    async def _found(self, document_id: int, publishing: Publishing) -> Verification | None:
        try:
            return await documents.verification(document_id, publishing)
        except NotFound:
            return None

    @get("/{document_id:int}", operation_id="verify_page")
    async def page(self, publishing: CurrentPublishing, document_id: FromPath[int]) -> Template:
        found = await self._found(document_id, publishing)
        return Template(
            "verify.html",
            context=await _page(None, found, document_id=document_id),
            status_code=200 if found else 404,
        )

    @post(
        "/{document_id:int}",
        operation_id="verify_check",
        status_code=200,
        request_max_body_size=MAX_UPLOAD,
    )
    async def check(
        self,
        publishing: CurrentPublishing,
        document_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        found = await self._found(document_id, publishing)
        check: dict[str, Any] | None = None
        if found and found.document is not None:
            upload = data.get("file")
            if isinstance(upload, UploadFile) and upload.filename:
                digest = hashlib.sha256(await upload.read()).hexdigest()
            else:
                digest = str(data.get("sha256") or "").strip().lower()
            if digest and not HEX64.fullmatch(digest):
                # A pasted hash of the wrong shape is a typing slip, not a forgery.
                check = {"problem": _shape_problem(digest), "pasted": digest[:200]}
            elif digest:
                check = {"sha256": digest, "match": digest == found.document.sha256}
        return Template(
            "verify.html",
            context=await _page(check, found, document_id=document_id),
            status_code=200 if found else 404,
        )
