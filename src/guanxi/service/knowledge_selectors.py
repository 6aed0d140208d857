"""Every read of the knowledge base, already narrowed to what the user may see.

- Published articles (internal or customer-visible) are for staff: users with service.view_article (every staff role).
- An unpublished draft is for its author and for reviewers (service.review_article) only.
- Customer-visible published articles are what the self-service portal shows: ``customer_articles()``.
Anything else is absent: 404 on every read path (list, detail, versions, search, suggestions, ticket box, API).
"""

import difflib
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from guanxi.core.pagination import Page, keyset_page
from guanxi.service.models import (
    Article,
    ArticleCategory,
    ArticleRevision,
    ArticleTag,
    ArticleVote,
    Ticket,
    TicketArticle,
)
from guanxi.service.models.knowledge import Visibility
from guanxi.service.selectors import ticket_get


def can_read(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("service.view_article"))


def can_write(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("service.add_article"))


def can_review(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("service.review_article"))


def _drafts_of(user, prefix: str = "") -> Q:
    """The unpublished work `user` may see: every draft for a reviewer, their own for an author, none otherwise."""
    if can_review(user):
        return Q(**{f"{prefix}draft__isnull": False})
    if can_write(user):
        return Q(**{f"{prefix}draft__author_id": user.pk})
    return Q(pk__in=[])


def article_queryset(*, user) -> QuerySet[Article]:
    """Articles `user` may open: published ones (staff), and those with a draft the user may see."""
    if not can_read(user):
        return Article.objects.none()
    return Article.objects.filter(Q(current__isnull=False) | _drafts_of(user))


def revision_queryset(*, user) -> QuerySet[ArticleRevision]:
    """The revisions search reads: the current published revision of every article, plus the drafts `user` may see."""
    if not can_read(user):
        return ArticleRevision.objects.none()
    drafts = Q(draft_of__isnull=False)
    if can_review(user):
        mine = drafts
    elif can_write(user):
        mine = drafts & Q(author_id=user.pk)
    else:
        mine = Q(pk__in=[])
    return ArticleRevision.objects.filter(Q(published_of__isnull=False) | mine)


def customer_articles(*, category_id: int | None = None) -> QuerySet[Article]:
    """What the customer self-service portal shows: published articles visible to customers, with their text."""
    articles = Article.objects.filter(current__isnull=False, visibility=Visibility.CUSTOMERS)
    if category_id is not None:
        articles = articles.filter(category_id=category_id)
    return articles.select_related("current", "category").order_by("-published_at", "-id")


def article_list(
    *, user, category_id: int | None = None, tag: str = "", cursor: str | None = None, limit: int = 50
) -> Page:
    """Published articles, newest publication first (keyset; article_published_idx), optionally within a category
    subtree or with a tag."""
    articles = article_queryset(user=user).filter(current__isnull=False)
    if category_id is not None:
        category = ArticleCategory.objects.filter(pk=category_id).first()
        if category is None:
            return Page(items=[], next=None)
        articles = articles.filter(category__path__startswith=category.path)
    if tag:
        articles = articles.filter(tags__name=tag)
    articles = articles.select_related("current", "category")
    return keyset_page(articles, ordering="-published_at", cursor=cursor, limit=limit)


def drafts_list(*, user, limit: int = 100) -> list[ArticleRevision]:
    """The drafts `user` works on or may review, those waiting for review first (the knowledge base home)."""
    if not (can_write(user) or can_review(user)):
        return []
    drafts = revision_queryset(user=user).filter(draft_of__isnull=False).select_related("article", "author")
    return sorted(
        drafts[:limit], key=lambda r: (r.status != ArticleRevision.Status.IN_REVIEW, -r.updated_at.timestamp())
    )


def article_get(*, user, article_id: int, for_update: bool = False) -> Article:
    """One article; 404 when absent or not for `user`. `for_update` locks the row (services)."""
    articles = article_queryset(user=user).filter(pk=article_id)
    if for_update:
        ids = list(articles.values_list("pk", flat=True))
        if not ids:
            raise Http404
        Article.objects.select_for_update().filter(pk=ids[0]).values_list("pk").first()
        articles = Article.objects.filter(pk=ids[0])
    article = articles.select_related(
        "current", "current__reviewed_by", "draft", "draft__author", "draft__reviewed_by", "category", "author"
    ).first()
    if article is None:
        raise Http404
    return article


def may_see_draft(user, article: Article) -> bool:
    return article.draft_id is not None and (can_review(user) or article.draft.author_id == user.pk)


def article_tags(article: Article) -> list[str]:
    return [tag.name for tag in article.tags.all()]


def article_votes(*, article: Article) -> dict[str, int]:
    """{"helpful": n, "not_helpful": m}: the "did this help?" answers of every user and ticket (one query)."""
    counts = article.votes.aggregate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    return {"helpful": counts["yes"], "not_helpful": counts["no"]}


def article_versions(*, user, article_id: int) -> list[ArticleRevision]:
    """The published versions of a visible article, newest first (its history)."""
    article = article_get(user=user, article_id=article_id)
    return list(
        article.revisions.filter(number__isnull=False).select_related("author", "reviewed_by").order_by("-number")
    )


def article_version(*, user, article_id: int, number: int) -> ArticleRevision:
    article = article_get(user=user, article_id=article_id)
    revision = article.revisions.filter(number=number).select_related("author", "reviewed_by").first()
    if revision is None:
        raise Http404
    return revision


@dataclass(frozen=True)
class VersionDiff:
    old: ArticleRevision
    new: ArticleRevision
    title_changed: bool
    lines: list[tuple[str, str]]  # (" " | "-" | "+", line) of the bodies


def version_diff(*, user, article_id: int, old: int, new: int) -> VersionDiff:
    """The line-by-line difference of two published versions of an article."""
    first = article_version(user=user, article_id=article_id, number=old)
    second = article_version(user=user, article_id=article_id, number=new)
    lines = [
        (line[0], line[2:])
        for line in difflib.ndiff(first.body.splitlines(), second.body.splitlines())
        if not line.startswith("?")
    ]
    return VersionDiff(old=first, new=second, title_changed=first.title != second.title, lines=lines)


def category_tree() -> list[ArticleCategory]:
    """Every category in tree order (by materialised path), each with its depth and an indented label for pickers."""
    categories = list(ArticleCategory.objects.order_by("path"))
    for category in categories:
        category.depth = category.path.count("/") - 2
        category.label = "\u3000" * category.depth + category.name
    return categories


def tag_list() -> QuerySet[ArticleTag]:
    return ArticleTag.objects.filter(articles__current__isnull=False).distinct().order_by("name")


def ticket_articles(*, user, ticket_id: int) -> tuple[Ticket, list[dict]]:
    """The articles linked to a visible ticket that the user may read, with their vote counts and the user's own
    answer for this ticket (three queries after the ticket's)."""
    ticket = ticket_get(user=user, ticket_id=ticket_id)
    visible = article_queryset(user=user)
    links = list(
        TicketArticle.objects.filter(ticket=ticket, article__in=visible)
        .select_related("article", "article__current", "article__draft")
        .annotate(
            helpful=Count("article__votes", filter=Q(article__votes__helpful=True), distinct=True),
            not_helpful=Count("article__votes", filter=Q(article__votes__helpful=False), distinct=True),
        )
        .order_by("linked_at", "id")
    )
    mine = dict(
        ArticleVote.objects.filter(
            ticket=ticket, voter_id=user.pk, article_id__in=[link.article_id for link in links]
        ).values_list("article_id", "helpful")
    )
    return ticket, [
        {
            "article": link.article,
            "title": (link.article.current or link.article.draft).title,
            "linked_at": link.linked_at,
            "helpful": link.helpful,
            "not_helpful": link.not_helpful,
            "my_vote": mine.get(link.article_id),
        }
        for link in links
    ]


def article_visible(*, user, object_id) -> bool:
    """Whether `user` may read the audit history of an article (core.audit_access)."""
    return str(object_id).isdigit() and article_queryset(user=user).filter(pk=int(object_id)).exists()
