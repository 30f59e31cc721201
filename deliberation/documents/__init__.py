"""Official documents: what goes in them, how they render, and their life cycle."""

from deliberation.documents.content import KINDS, Content, document_content
from deliberation.documents.render import RenderJob, render_pdf
from deliberation.documents.renderer import Renderer
from deliberation.documents.service import (
    Publishing,
    StoredPdf,
    create_document,
    document_pdf,
    get_document,
    page_topic_documents,
    public_notices,
    publish_document,
    publish_preview,
    revocable,
    revoke_document,
    topic_documents,
    verification,
)

__all__ = [
    "KINDS",
    "Content",
    "Publishing",
    "RenderJob",
    "Renderer",
    "StoredPdf",
    "create_document",
    "document_content",
    "document_pdf",
    "get_document",
    "page_topic_documents",
    "public_notices",
    "publish_document",
    "publish_preview",
    "render_pdf",
    "revocable",
    "revoke_document",
    "topic_documents",
    "verification",
]
