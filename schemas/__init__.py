"""Pydantic models: the one definition of every record policy-notices produces."""

from schemas.records import (
    SCHEMA_VERSION,
    Attachment,
    DocNumber,
    Document,
    ForwardedDocument,
    Item,
    OcrReading,
    PageLink,
    Passage,
    ParseWarning,
    RecognizedLine,
    Resolution,
    Role,
    Section,
    SourceFormat,
    SourceText,
    Span,
    UnitMention,
    WebPage,
)

__all__ = [
    "SCHEMA_VERSION",
    "Attachment",
    "DocNumber",
    "Document",
    "ForwardedDocument",
    "Item",
    "OcrReading",
    "PageLink",
    "Passage",
    "ParseWarning",
    "RecognizedLine",
    "Resolution",
    "Role",
    "Section",
    "SourceFormat",
    "SourceText",
    "Span",
    "UnitMention",
    "WebPage",
    "json_schema",
]


def json_schema() -> dict:
    """JSON Schema of a parsed document (what `notices parse` prints)."""
    return Document.model_json_schema()
