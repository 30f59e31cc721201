from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal, provide_optional_principal
from api.dependencies import CurrentPublishing
from api.middleware import raw_header
from api.paging import PAGED, CurrentWindow, paged
from deliberation import audit, documents
from deliberation.permissions import sees_every_chain_head
from deliberation.schemas import (
    ChainHeads,
    DocumentCreate,
    DocumentPage,
    DocumentPublish,
    DocumentRead,
    DocumentRevoke,
)
from deliberation.security import Principal

PUBLISHED_CACHE = "public, max-age=31536000, immutable"


def _published_headers(etag: str, disposition: str | None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": PUBLISHED_CACHE}
    if disposition:
        headers["Content-Disposition"] = disposition
    return headers


@lru_cache(maxsize=1024)
def _disposition(document_id: int, title: str) -> str:
    """Shown inline, saved under the document's Chinese title (RFC 6266 ``filename*``)."""
    filename = quote(f"{title}.pdf")
    return f"inline; filename=\"document-{document_id}.pdf\"; filename*=UTF-8''{filename}"


class DocumentController(Controller):
    """Staff create drafts, publish and revoke; the PDFs of published ones are public."""

    path = "/api/v1"
    tags = ["documents"]

    @post("/topics/{topic_id:int}/documents", operation_id="create_document", status_code=201)
    async def create_document(
        self,
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        data: JSONBody[DocumentCreate],
    ) -> DocumentRead:
        return await documents.create_document(principal, topic_id, data.kind, publishing)

    @get("/topics/{topic_id:int}/documents", operation_id="list_topic_documents", **PAGED)
    async def list_topic_documents(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        topic_id: FromPath[int],
        window: CurrentWindow,
    ) -> Response[list[DocumentRead]]:
        page = await documents.page_topic_documents(principal, topic_id, publishing, window)
        return paged(request, page)

    @get("/documents/{document_id:int}", operation_id="get_document")
    async def get_document(
        self, principal: CurrentPrincipal, publishing: CurrentPublishing, document_id: FromPath[int]
    ) -> DocumentRead:
        return await documents.get_document(principal, document_id, publishing)

    @post("/documents/{document_id:int}/publish", operation_id="publish_document", status_code=200)
    async def publish_document(
        self,
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        document_id: FromPath[int],
        data: JSONBody[DocumentPublish],
    ) -> DocumentRead:
        return await documents.publish_document(
            principal, document_id, data.posting_days, publishing
        )

    @post("/documents/{document_id:int}/revoke", operation_id="revoke_document", status_code=200)
    async def revoke_document(
        self,
        principal: CurrentPrincipal,
        publishing: CurrentPublishing,
        document_id: FromPath[int],
        data: JSONBody[DocumentRevoke],
    ) -> DocumentRead:
        return await documents.revoke_document(principal, document_id, data.reason, publishing)

    @get(
        "/documents/{document_id:int}/pdf",
        operation_id="document_pdf",
        opt={"exclude_from_auth": True},
        dependencies={"caller": Provide(provide_optional_principal)},
        media_type="application/pdf",
    )
    async def document_pdf(
        self,
        request: Request[Any, Any, Any],
        caller: NamedDependency[Principal | None],
        document_id: FromPath[int],
    ) -> Response[bytes]:
        pdf = await documents.document_pdf(caller, document_id)
        if pdf.status == "draft":
            # A draft may still change: never cached, only for its township's staff.
            return Response(
                pdf.content, media_type="application/pdf", headers={"Cache-Control": "no-store"}
            )
        etag = f'"{pdf.sha256}"'
        wanted = raw_header(request.scope, b"if-none-match")
        if wanted and (wanted.strip() == "*" or etag in (t.strip() for t in wanted.split(","))):
            return Response(b"", status_code=304, headers=_published_headers(etag, None))
        disposition = _disposition(document_id, pdf.title)
        return Response(
            pdf.content, media_type="application/pdf", headers=_published_headers(etag, disposition)
        )


class PublicNoticeController(Controller):
    path = "/api/v1/public"
    tags = ["public"]
    opt = {"exclude_from_auth": True}

    @get("/notices", operation_id="public_notices")
    async def notices(
        self,
        publishing: CurrentPublishing,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> DocumentPage:
        return await documents.public_notices(
            publishing, q=q, date_from=date_from, date_to=date_to, limit=limit, offset=offset
        )

    @get(
        "/chain-heads",
        operation_id="chain_heads",
        cache=False,
        dependencies={"caller": Provide(provide_optional_principal)},
    )
    async def chain_heads(self, caller: NamedDependency[Principal | None]) -> ChainHeads:
        """The latest event (reference, seq, hash) of every topic the public may read
        and one digest over them all; the screened suggestions' and published plans' in
        lists of their own, each with its digest (the township's staff and the county,
        signed in: every topic's, suggestion's and plan's). ``root`` commits to every
        chain's head at ``root_as_of``, hidden ones too. Save a copy: ``deliberation
        audit verify --against FILE`` later shows that no event it names, nor any event
        stamped by ``root_as_of`` on any chain, is gone or changed."""
        full = sees_every_chain_head(caller)
        return msgspec.convert(await audit.chain_heads(full=full), ChainHeads)
