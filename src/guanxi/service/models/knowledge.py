"""The knowledge base (知识库): articles in a category tree, written as revisions that a reviewer publishes.

An article shows readers its current published revision (``Article.current``); an author works on at most one draft
revision at a time (``Article.draft``), submits it, and a reviewer other than the author approves it (it becomes the
next numbered version and the current one) or rejects it with a comment. Every published edit is therefore a new
numbered version; drafts have no number. Search reads revisions (title and ``search_text``) through bigram indexes
(migration 0005_knowledge), so drafts are found by those who may see them and readers find published text only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.tree import TreeNode

BODY_MAX_LENGTH = 10_000  # the SQLite bigram triggers cover search_text up to SEARCH_MAX_POSITION characters
SEARCH_MAX_POSITION = 10_300


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (staff only)")
    CUSTOMERS = "customers", _("Customers (self-service portal)")


class ArticleCategory(TreeNode):
    """A node of the knowledge base's category tree (电费 › 缴费方式 …)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="article_category_unique_name")]

    def __str__(self) -> str:
        return self.name


class ArticleTag(models.Model):
    """A free keyword on articles (阶梯电价, 峰谷); created on first use."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("article tag")
        verbose_name_plural = _("article tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A knowledge-base article. Category, visibility and tags are those of the current published revision (those of
    the draft until the first publication); the text lives in its revisions."""

    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=pgettext_lazy("knowledge", "category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    tags = models.ManyToManyField(ArticleTag, verbose_name=_("tags"), blank=True, related_name="articles")
    current = models.OneToOneField(
        "ArticleRevision",
        verbose_name=_("current version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="published_of",
    )
    draft = models.OneToOneField(
        "ArticleRevision",
        verbose_name=_("draft"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="draft_of",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        permissions = [("review_article", _("Can approve or reject knowledge articles"))]
        indexes = [
            # The knowledge base list: published articles, newest publication first (keyset on published_at, id).
            models.Index(
                fields=["-published_at", "-id"], condition=Q(current__isnull=False), name="article_published_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"KB{self.pk}"


class ArticleRevision(models.Model):
    """One text of an article: a draft being written or reviewed, or a published version (numbered 1, 2, …)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        REJECTED = "rejected", _("Rejected")
        PUBLISHED = "published", _("Published")

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("version number"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), max_length=BODY_MAX_LENGTH)
    # title + newline + body: the column whose bigram index finds a term anywhere in the article.
    search_text = models.TextField(editable=False, default="")
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=pgettext_lazy("knowledge", "category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    tag_names = models.JSONField(_("tags"), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("article revision")
        verbose_name_plural = _("article revisions")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_revision_unique_number"),
            models.CheckConstraint(
                condition=Q(status="published", number__isnull=False)
                | (~Q(status="published") & Q(number__isnull=True)),
                name="article_revision_number_iff_published",
            ),
        ]

    def __str__(self) -> str:
        return f"KB{self.article_id} v{self.number}" if self.number else f"KB{self.article_id} draft"

    def save(self, *args, **kwargs) -> None:
        self.search_text = f"{self.title}\n{self.body}"
        if kwargs.get("update_fields") is not None and {"title", "body"} & set(kwargs["update_fields"]):
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)


class TicketArticle(models.Model):
    """An article linked to a ticket (it answered, or should answer, the customer's question)."""

    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="article_links"
    )
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="ticket_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("linked by"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket article")
        verbose_name_plural = _("ticket articles")
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="ticket_article_unique")]
        # article_id: "tickets that used this article" on the article page (the unique one serves the ticket side).
        indexes = [models.Index(fields=["article", "ticket"], name="ticket_article_by_article_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → KB{self.article_id}"


class ArticleVote(models.Model):
    """ "Did this help?" — one answer per user, ticket and article (answering again changes it)."""

    ticket = models.ForeignKey("service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("voter"), on_delete=models.CASCADE, related_name="+"
    )
    helpful = models.BooleanField(_("helpful"))
    voted_at = models.DateTimeField(_("voted at"), auto_now=True)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [
            models.UniqueConstraint(fields=["article", "ticket", "voter"], name="article_vote_one_per_user_ticket")
        ]

    def __str__(self) -> str:
        return f"KB{self.article_id} {self.ticket_id} {self.helpful}"
