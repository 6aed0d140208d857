"""Knowledge-base factories: articles written, submitted and approved through the services."""

from guanxi.service import knowledge_services as services
from guanxi.service.models import Article
from tests.conftest import fresh


def draft(author, title: str = "关于电费缴纳的说明", body: str = "可通过网上国网APP缴纳电费。", **data) -> Article:
    return services.article_create(actor=fresh(author), data={"title": title, "body": body, **data})


def submit(article: Article, author) -> Article:
    article.refresh_from_db()
    return services.article_submit(actor=fresh(author), article_id=article.pk, version=article.version)


def approve(article: Article, reviewer, comment: str = "") -> Article:
    article.refresh_from_db()
    return services.article_approve(
        actor=fresh(reviewer), article_id=article.pk, version=article.version, comment=comment
    )


def publish(
    author, reviewer, title: str = "关于电费缴纳的说明", body: str = "可通过网上国网APP缴纳电费。", **data
) -> Article:
    """A published article (version 1), written by `author` and approved by `reviewer`."""
    article = draft(author, title, body, **data)
    submit(article, author)
    return approve(article, reviewer)


def edit(article: Article, actor, **data) -> Article:
    article.refresh_from_db()
    return services.article_update(actor=fresh(actor), article_id=article.pk, version=article.version, data=data)
