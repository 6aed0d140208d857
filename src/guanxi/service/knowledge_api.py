"""The knowledge base under /api/v1 (tag "service"): articles, their review and versions, search, suggestions while a
ticket is typed, and the articles linked to a ticket with their "did this help?" answers."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.core.schemas import READ, WRITE
from guanxi.service import knowledge_search
from guanxi.service import knowledge_selectors as kb
from guanxi.service import knowledge_services as services
from guanxi.service.knowledge_schemas import (
    ArticleHits,
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    CategoryIn,
    CategoryOut,
    DiffOut,
    LinkIn,
    ReviewIn,
    RevisionOut,
    TicketArticleOut,
    VersionIn,
    VoteIn,
    VoteOut,
)
from guanxi.service.models import Article, ArticleRevision

router = Router(tags=["service"])


class ArticleListQuery(Schema):
    category_id: int | None = None
    tag: str = Field("", max_length=50)
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class SearchQuery(Schema):
    q: str = Field(..., min_length=2, max_length=200)
    limit: int = Field(knowledge_search.SEARCH_LIMIT, ge=1, le=50)


class SuggestQuery(Schema):
    text: str = Field(..., max_length=20000, description="The ticket's subject and description as typed so far")
    limit: int = Field(knowledge_search.SUGGEST_LIMIT, ge=1, le=20)


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.get_full_name() or user.username} if user is not None else None


def revision_data(revision: ArticleRevision | None) -> dict | None:
    if revision is None:
        return None
    return {
        **{
            name: getattr(revision, name)
            for name in (
                "number",
                "status",
                "title",
                "body",
                "category_id",
                "visibility",
                "created_at",
                "submitted_at",
                "reviewed_at",
                "review_comment",
            )
        },
        "tags": list(revision.tag_names),
        "author": _person(revision.author),
        "reviewed_by": _person(revision.reviewed_by),
    }


def article_data(user, article: Article) -> dict:
    """An article as `user` may see it: the published version, and the draft for its author and the reviewers."""
    shown = article.current or article.draft
    return {
        "id": article.pk,
        "version": article.version,
        "title": shown.title,
        "category_id": article.category_id,
        "category": article.category.name if article.category_id else None,
        "visibility": article.visibility,
        "tags": kb.article_tags(article),
        "published_at": article.published_at,
        "current": revision_data(article.current),
        "draft": revision_data(article.draft) if kb.may_see_draft(user, article) else None,
        **kb.article_votes(article=article),
    }


def _detail(user, article_id: int) -> dict:
    return article_data(user, kb.article_get(user=user, article_id=article_id))


def _hits(hits, terms) -> dict:
    return {
        "items": [
            {
                "id": hit.article_id,
                "title": hit.revision.title,
                "snippet": hit.snippet(terms),
                "in_title": hit.in_title,
                "draft": hit.is_draft,
                "url": reverse("service:kb:detail", args=[hit.article_id]),
            }
            for hit in hits
        ]
    }


@router.get("/articles", response={200: ArticlePage, **READ})
def list_articles(request: HttpRequest, filters: Query[ArticleListQuery]):
    """Published knowledge articles, newest publication first; `category_id` includes its sub-categories."""
    page = kb.article_list(
        user=request.user, category_id=filters.category_id, tag=filters.tag, cursor=filters.cursor, limit=filters.limit
    )
    return {
        "items": [
            {
                "id": a.pk,
                "title": a.current.title,
                "category": a.category.name if a.category_id else None,
                "visibility": a.visibility,
                "published_at": a.published_at,
                "version_number": a.current.number,
            }
            for a in page.items
        ],
        "next": page.next,
    }


@router.post("/articles", response={201: ArticleOut, **WRITE})
def create_article(request: HttpRequest, payload: ArticleIn):
    """A new article as a draft; it is published when a reviewer other than the author approves it."""
    article = services.article_create(actor=request.user, data=payload.model_dump())
    return 201, _detail(request.user, article.pk)


@router.get("/articles/search", response={200: ArticleHits, **READ})
def search_articles(request: HttpRequest, query: Query[SearchQuery]):
    """Articles holding every word of `q` (any substring, Chinese included) in the title or text; title first."""
    hits = knowledge_search.article_search(user=request.user, q=query.q, limit=query.limit)
    return _hits(hits, knowledge_search.search.parse(query.q).terms)


@router.get("/articles/suggestions", response={200: ArticleHits, **READ})
def suggest_articles(request: HttpRequest, query: Query[SuggestQuery]):
    """Articles sharing the most words with a ticket being typed."""
    hits = knowledge_search.article_suggestions(user=request.user, text=query.text, limit=query.limit)
    return _hits(hits, knowledge_search.suggestion_words(query.text))


@router.get("/articles/{article_id}", response={200: ArticleOut, **READ})
def get_article(request: HttpRequest, article_id: int):
    return _detail(request.user, article_id)


@router.patch("/articles/{article_id}", response={200: ArticleOut, **WRITE})
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch):
    """Edit the draft (or start one from the published version); send the `version` you read."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.article_update(actor=request.user, article_id=article_id, version=version, data=data)
    return _detail(request.user, article_id)


@router.post("/articles/{article_id}/submit", response={200: ArticleOut, **WRITE})
def submit_article(request: HttpRequest, article_id: int, payload: VersionIn):
    services.article_submit(actor=request.user, article_id=article_id, version=payload.version)
    return _detail(request.user, article_id)


@router.post("/articles/{article_id}/withdraw", response={200: ArticleOut, **WRITE})
def withdraw_article(request: HttpRequest, article_id: int, payload: VersionIn):
    services.article_withdraw(actor=request.user, article_id=article_id, version=payload.version)
    return _detail(request.user, article_id)


@router.post("/articles/{article_id}/approve", response={200: ArticleOut, **WRITE})
def approve_article(request: HttpRequest, article_id: int, payload: ReviewIn):
    services.article_approve(
        actor=request.user, article_id=article_id, version=payload.version, comment=payload.comment
    )
    return _detail(request.user, article_id)


@router.post("/articles/{article_id}/reject", response={200: ArticleOut, **WRITE})
def reject_article(request: HttpRequest, article_id: int, payload: ReviewIn):
    services.article_reject(actor=request.user, article_id=article_id, version=payload.version, comment=payload.comment)
    return _detail(request.user, article_id)


@router.get("/articles/{article_id}/versions", response={200: list[RevisionOut], **READ})
def list_versions(request: HttpRequest, article_id: int):
    """Every published version, newest first."""
    return [revision_data(r) for r in kb.article_versions(user=request.user, article_id=article_id)]


@router.get("/articles/{article_id}/versions/{number}", response={200: RevisionOut, **READ})
def get_version(request: HttpRequest, article_id: int, number: int):
    return revision_data(kb.article_version(user=request.user, article_id=article_id, number=number))


@router.get("/articles/{article_id}/diff", response={200: DiffOut, **READ})
def diff_versions(request: HttpRequest, article_id: int, old: int = Query(..., ge=1), new: int = Query(..., ge=1)):
    """The body of version `old` against version `new`, line by line ("-" removed, "+" added, " " kept)."""
    diff = kb.version_diff(user=request.user, article_id=article_id, old=old, new=new)
    return {
        "old": diff.old.number,
        "new": diff.new.number,
        "old_title": diff.old.title,
        "new_title": diff.new.title,
        "lines": [{"op": op, "text": text} for op, text in diff.lines],
    }


@router.get("/article-categories", response={200: list[CategoryOut], **READ})
def list_categories(request: HttpRequest):
    """The category tree in order (`depth` 0 for top-level categories)."""
    if not kb.can_read(request.user):
        return []
    return [{"id": c.pk, "name": c.name, "parent_id": c.parent_id, "depth": c.depth} for c in kb.category_tree()]


@router.post("/article-categories", response={201: CategoryOut, **WRITE})
def create_category(request: HttpRequest, payload: CategoryIn):
    category = services.category_create(actor=request.user, name=payload.name, parent_id=payload.parent_id)
    return 201, {
        "id": category.pk,
        "name": category.name,
        "parent_id": category.parent_id,
        "depth": category.path.count("/") - 2,
    }


@router.get("/tickets/{ticket_id}/articles", response={200: list[TicketArticleOut], **READ})
def ticket_articles(request: HttpRequest, ticket_id: int):
    """The articles linked to a ticket, with their "did this help?" counts and your own answer for this ticket."""
    _ticket, rows = kb.ticket_articles(user=request.user, ticket_id=ticket_id)
    return [{**{k: v for k, v in row.items() if k != "article"}, "article_id": row["article"].pk} for row in rows]


@router.post("/tickets/{ticket_id}/articles", response={201: list[TicketArticleOut], **WRITE})
def link_article(request: HttpRequest, ticket_id: int, payload: LinkIn):
    services.ticket_article_link(actor=request.user, ticket_id=ticket_id, article_id=payload.article_id)
    return 201, ticket_articles(request, ticket_id)


@router.delete("/tickets/{ticket_id}/articles/{article_id}", response={204: None, **WRITE})
def unlink_article(request: HttpRequest, ticket_id: int, article_id: int):
    services.ticket_article_unlink(actor=request.user, ticket_id=ticket_id, article_id=article_id)
    return 204, None


@router.post("/tickets/{ticket_id}/articles/{article_id}/vote", response={200: VoteOut, **WRITE})
def vote_article(request: HttpRequest, ticket_id: int, article_id: int, payload: VoteIn):
    """Did this article help with this ticket? One answer per user and ticket; answering again replaces it."""
    vote = services.article_vote(
        actor=request.user, ticket_id=ticket_id, article_id=article_id, helpful=payload.helpful
    )
    counts = kb.article_votes(article=vote.article)
    return {
        "article_id": article_id,
        "ticket_id": ticket_id,
        "helpful": vote.helpful,
        "helpful_count": counts["helpful"],
        "not_helpful_count": counts["not_helpful"],
    }
