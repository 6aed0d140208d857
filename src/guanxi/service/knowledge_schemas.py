"""API shapes of the knowledge base. Validation rules live in knowledge_services."""

from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field

from guanxi.service.models.knowledge import BODY_MAX_LENGTH, Visibility


class ArticleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., min_length=1, max_length=200)
    # Checked by the service (required, at most BODY_MAX_LENGTH): the API's error handler reads a schema error on a
    # field named "body" as one on the request body itself.
    body: str = Field("", description=f"The text, at most {BODY_MAX_LENGTH} characters")
    category_id: int | None = None
    visibility: Visibility = Visibility.INTERNAL
    tags: list[str] = Field(default_factory=list, max_length=20)


class ArticlePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, description="As in ArticleIn (checked by the service)")
    category_id: int | None = None
    visibility: Visibility | None = None
    tags: list[str] | None = Field(None, max_length=20)


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    comment: str = Field("", max_length=2000)


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int


class CategoryIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    parent_id: int | None = None


class LinkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    article_id: int


class VoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    helpful: bool


class PersonOut(Schema):
    id: int
    name: str


class RevisionOut(Schema):
    number: int | None
    status: str
    title: str
    body: str
    category_id: int | None
    visibility: str
    tags: list[str]
    author: PersonOut
    created_at: datetime
    submitted_at: datetime | None
    reviewed_by: PersonOut | None
    reviewed_at: datetime | None
    review_comment: str


class ArticleOut(Schema):
    id: int
    version: int
    title: str
    category_id: int | None
    category: str | None
    visibility: str
    tags: list[str]
    published_at: datetime | None
    current: RevisionOut | None
    draft: RevisionOut | None
    helpful: int
    not_helpful: int


class ArticleItem(Schema):
    id: int
    title: str
    category: str | None
    visibility: str
    published_at: datetime | None
    version_number: int | None


class ArticlePage(Schema):
    items: list[ArticleItem]
    next: str | None


class ArticleHitOut(Schema):
    id: int
    title: str
    snippet: str
    in_title: bool
    draft: bool
    url: str


class ArticleHits(Schema):
    items: list[ArticleHitOut]


class DiffLineOut(Schema):
    op: str
    text: str


class DiffOut(Schema):
    old: int
    new: int
    old_title: str
    new_title: str
    lines: list[DiffLineOut]


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int


class TicketArticleOut(Schema):
    article_id: int
    title: str
    linked_at: datetime
    helpful: int
    not_helpful: int
    my_vote: bool | None


class VoteOut(Schema):
    article_id: int
    ticket_id: int
    helpful: bool
    helpful_count: int
    not_helpful_count: int
