"""Every write of the knowledge base: validated, versioned (optimistic locking on Article.version) and audited, each
in one transaction.

The review workflow (审核)::

    create / edit ──> draft ──submit──> in review ──approve (another person, service.review_article)──> version n+1
                        ^                  │  │                                                        (published)
                        └────── edit <─────┘  └──reject (with a comment)──> rejected ──edit/submit──> …
                               (withdraw)

Editing a published article starts a new draft from its current version; readers keep seeing the published one until
the draft is approved.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.permissions import require
from guanxi.core.versioning import check_version, save_versioned
from guanxi.service import knowledge_selectors as kb
from guanxi.service.models import Article, ArticleCategory, ArticleRevision, ArticleTag, ArticleVote, TicketArticle
from guanxi.service.models.knowledge import BODY_MAX_LENGTH
from guanxi.service.selectors import ticket_get

R = ArticleRevision.Status
CONTENT_FIELDS = ("title", "body", "category_id", "visibility", "tags")
MAX_TAGS = 20
TAG_MAX_LENGTH = 50
COMMENT_MAX_LENGTH = 2000


# --- articles -------------------------------------------------------------------------------------------------------


def article_create(*, actor, data: dict) -> Article:
    """A new article: its first draft, written by `actor`; nobody but the author and reviewers sees it yet."""
    require(actor, "service.add_article")
    data = _content(data, partial=False)
    with transaction.atomic():
        draft = ArticleRevision(author=actor, status=R.DRAFT)
        _apply(draft, data)
        _validate(draft)
        article = Article.objects.create(author=actor, category_id=draft.category_id, visibility=draft.visibility)
        draft.article = article
        draft.save()
        article.draft = draft
        article.save(update_fields=["draft"])
        audit.record(actor=actor, action="create", instance=article, changes=_revision_changes({}, draft))
    return article


def article_update(*, actor, article_id: int, version: int, data: dict) -> Article:
    """Edit the article's draft, or start one from the published version. Only the draft's author edits it, and not
    while it is in review."""
    require(actor, "service.change_article")
    data = _content(data, partial=True)
    with transaction.atomic():
        article = kb.article_get(user=actor, article_id=article_id, for_update=True)
        check_version(article, version)
        draft = article.draft
        if draft is None:
            source = article.current
            draft = ArticleRevision(
                article=article,
                author=actor,
                status=R.DRAFT,
                title=source.title,
                body=source.body,
                category_id=source.category_id,
                visibility=source.visibility,
                tag_names=list(source.tag_names),
            )
            before = {}
        else:
            if draft.author_id != actor.pk:
                raise Conflict(
                    _("%(name)s is working on a draft of this article; it can be edited when that draft is decided.")
                    % {"name": draft.author.get_full_name() or draft.author.username}
                )
            if draft.status == R.IN_REVIEW:
                raise Conflict(_("This draft is in review; withdraw it before editing."))
            before = audit.snapshot(draft, ["title", "body", "category", "visibility", "tag_names", "status"])
        _apply(draft, data)
        draft.status = R.DRAFT
        _validate(draft)
        draft.save()
        article.draft = draft
        save_versioned(article, ["draft"])
        changes = audit.diff(
            before, audit.snapshot(draft, ["title", "body", "category", "visibility", "tag_names", "status"])
        )
        audit.record(actor=actor, action="update", instance=article, changes=changes)
    return article


def article_submit(*, actor, article_id: int, version: int) -> Article:
    """The author hands the draft to the reviewers."""
    require(actor, "service.add_article")
    with transaction.atomic():
        article, draft = _draft_for(actor, article_id, version)
        if draft.author_id != actor.pk:
            raise PermissionDenied(_("Only the author of a draft can submit it for review."))
        if draft.status not in (R.DRAFT, R.REJECTED):
            raise Conflict(_("This draft is already in review."))
        _set_status(actor, article, draft, R.IN_REVIEW, submitted_at=timezone.now())
    return article


def article_withdraw(*, actor, article_id: int, version: int) -> Article:
    """The author takes a draft back from review (to change it)."""
    require(actor, "service.add_article")
    with transaction.atomic():
        article, draft = _draft_for(actor, article_id, version)
        if draft.author_id != actor.pk:
            raise PermissionDenied(_("Only the author of a draft can withdraw it."))
        if draft.status != R.IN_REVIEW:
            raise Conflict(_("Only a draft in review can be withdrawn."))
        _set_status(actor, article, draft, R.DRAFT)
    return article


def article_approve(*, actor, article_id: int, version: int, comment: str = "") -> Article:
    """A reviewer other than the author publishes the draft: it becomes the next version and what readers see."""
    require(actor, "service.review_article")
    comment = _comment(comment, required=False)
    with transaction.atomic():
        article, draft = _draft_for(actor, article_id, version)
        _check_reviewable(actor, draft)
        now = timezone.now()
        last = article.revisions.aggregate(last=Max("number"))["last"] or 0
        draft.number = last + 1
        draft.status = R.PUBLISHED
        draft.reviewed_by, draft.reviewed_at, draft.review_comment = actor, now, comment
        draft.save(update_fields=["number", "status", "reviewed_by", "reviewed_at", "review_comment", "updated_at"])
        before = audit.snapshot(article, ["current", "category", "visibility"])
        article.current, article.draft = draft, None
        article.category_id, article.visibility, article.published_at = draft.category_id, draft.visibility, now
        save_versioned(article, ["current", "draft", "category", "visibility", "published_at"])
        article.tags.set([ArticleTag.objects.get_or_create(name=name)[0] for name in draft.tag_names])
        changes = audit.diff(before, audit.snapshot(article, ["current", "category", "visibility"]))
        changes["published_version"] = [last or None, draft.number]
        if comment:
            changes["review_comment"] = [None, comment]
        audit.record(actor=actor, action="approve", instance=article, changes=changes)
    return article


def article_reject(*, actor, article_id: int, version: int, comment: str) -> Article:
    """A reviewer other than the author sends the draft back with a comment saying what to change."""
    require(actor, "service.review_article")
    comment = _comment(comment, required=True)
    with transaction.atomic():
        article, draft = _draft_for(actor, article_id, version)
        _check_reviewable(actor, draft)
        _set_status(
            actor,
            article,
            draft,
            R.REJECTED,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
            review_comment=comment,
        )
    return article


def category_create(*, actor, name: str, parent_id: int | None = None) -> ArticleCategory:
    """A category of the knowledge base (reviewers keep the tree in order)."""
    require(actor, "service.review_article")
    name = (name or "").strip()
    with transaction.atomic():
        parent = None
        if parent_id is not None:
            parent = ArticleCategory.objects.filter(pk=parent_id).first()
            if parent is None:
                raise ValidationError({"parent_id": pgettext("knowledge", "No such category.")})
        category = ArticleCategory(name=name, parent=parent)
        try:
            category.full_clean(exclude=["path"])
        except ValidationError as exc:
            errors = exc.message_dict
            if "__all__" in errors:
                errors = {"name": [_("This category already has a sub-category with this name.")]}
            raise ValidationError(errors) from exc
        category.save()
        audit.record(actor=actor, action="create", instance=category, changes=audit.snapshot(category))
    return category


# --- tickets --------------------------------------------------------------------------------------------------------


def ticket_article_link(*, actor, ticket_id: int, article_id: int) -> TicketArticle:
    """Link a published article to a ticket (idempotent: linking twice keeps one link)."""
    require(actor, "service.change_ticket")
    with transaction.atomic():
        ticket = ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        article = kb.article_get(user=actor, article_id=article_id)
        if article.current_id is None:
            raise Conflict(_("Only a published article can be linked to a ticket."))
        link, created = TicketArticle.objects.get_or_create(
            ticket=ticket, article=article, defaults={"linked_by": actor}
        )
        if created:
            audit.record(actor=actor, action="link_article", instance=ticket, changes={"article": [None, article.pk]})
    return link


def ticket_article_unlink(*, actor, ticket_id: int, article_id: int) -> None:
    """Remove an article from a ticket (its "did this help?" answers stay in the article's counts)."""
    require(actor, "service.change_ticket")
    with transaction.atomic():
        ticket = ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        kb.article_get(user=actor, article_id=article_id)
        deleted, _rows = TicketArticle.objects.filter(ticket=ticket, article_id=article_id).delete()
        if not deleted:
            raise Conflict(_("This article is not linked to the ticket."))
        audit.record(actor=actor, action="unlink_article", instance=ticket, changes={"article": [article_id, None]})


def article_vote(*, actor, ticket_id: int, article_id: int, helpful: bool) -> ArticleVote:
    """ "Did this help?" for an article linked to a ticket: one answer per user and ticket; answering again replaces
    it, the same answer twice changes nothing."""
    require(actor, "service.view_article")
    if not isinstance(helpful, bool):
        raise ValidationError({"helpful": _("Enter true or false.")})
    with transaction.atomic():
        ticket = ticket_get(user=actor, ticket_id=ticket_id)
        article = kb.article_get(user=actor, article_id=article_id)
        if not TicketArticle.objects.filter(ticket=ticket, article=article).exists():
            raise Conflict(_("Link the article to the ticket before saying whether it helped."))
        vote = ArticleVote.objects.select_for_update().filter(ticket=ticket, article=article, voter=actor).first()
        if vote is None:
            try:
                with transaction.atomic():
                    vote = ArticleVote.objects.create(ticket=ticket, article=article, voter=actor, helpful=helpful)
            except IntegrityError:  # a concurrent first answer by the same user won; ours replaces it below
                vote = ArticleVote.objects.select_for_update().get(ticket=ticket, article=article, voter=actor)
            else:
                audit.record(actor=actor, action="vote", instance=article, changes={"helpful": [None, helpful]})
                return vote
        if vote.helpful != helpful:
            audit.record(actor=actor, action="vote", instance=article, changes={"helpful": [vote.helpful, helpful]})
            vote.helpful = helpful
            vote.save(update_fields=["helpful", "voted_at"])
    return vote


# --- helpers --------------------------------------------------------------------------------------------------------


def _content(data: dict, *, partial: bool) -> dict:
    """The content fields of a create/edit, trimmed; unknown keys ignored (the API schemas forbid them)."""
    cleaned = {key: (value.strip() if isinstance(value, str) else value) for key, value in data.items()}
    cleaned = {key: value for key, value in cleaned.items() if key in CONTENT_FIELDS}
    if "tags" in cleaned:
        cleaned["tags"] = _tags(cleaned["tags"])
    if not partial:
        cleaned.setdefault("visibility", "internal")
    return cleaned


def _tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(tag, str) for tag in value):
        raise ValidationError({"tags": _("Enter a list of tags.")})
    names = list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))
    if len(names) > MAX_TAGS:
        raise ValidationError({"tags": _("Enter at most %(max)s tags.") % {"max": MAX_TAGS}})
    if any(len(name) > TAG_MAX_LENGTH for name in names):
        raise ValidationError({"tags": _("A tag has at most %(max)s characters.") % {"max": TAG_MAX_LENGTH}})
    return names


def _apply(revision: ArticleRevision, data: dict) -> None:
    for key, value in data.items():
        if key == "tags":
            revision.tag_names = value
        else:
            setattr(revision, key, value)


def _validate(revision: ArticleRevision) -> None:
    # full_clean does not check a TextField's max_length
    if isinstance(revision.body, str) and len(revision.body) > BODY_MAX_LENGTH:
        raise ValidationError({"body": _("Enter at most %(max)s characters.") % {"max": BODY_MAX_LENGTH}})
    if revision.category_id is not None and not ArticleCategory.objects.filter(pk=revision.category_id).exists():
        raise ValidationError({"category_id": pgettext("knowledge", "No such category.")})
    try:
        revision.full_clean(exclude=["article", "author", "category", "reviewed_by"], validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(
            {
                ("category_id" if field == "category" else field): messages
                for field, messages in exc.message_dict.items()
            }
        ) from exc


def _comment(comment, *, required: bool) -> str:
    comment = (comment or "").strip() if isinstance(comment, str | type(None)) else None
    if comment is None:
        raise ValidationError({"comment": _("Enter text.")})
    if required and not comment:
        raise ValidationError({"comment": _("Say what the author should change.")})
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": _("Enter at most %(max)s characters.") % {"max": COMMENT_MAX_LENGTH}})
    return comment


def _draft_for(actor, article_id: int, version: int) -> tuple[Article, ArticleRevision]:
    article = kb.article_get(user=actor, article_id=article_id, for_update=True)
    check_version(article, version)
    if article.draft is None:
        raise Conflict(_("This article has no draft."))
    return article, article.draft


def _check_reviewable(actor, draft: ArticleRevision) -> None:
    if draft.status != R.IN_REVIEW:
        raise Conflict(_("Only a draft submitted for review can be approved or rejected."))
    if draft.author_id == actor.pk:
        raise PermissionDenied(_("Authors cannot review their own drafts; another reviewer must decide."))


def _set_status(actor, article: Article, draft: ArticleRevision, status: str, **fields) -> None:
    before = draft.status
    draft.status = status
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.save(update_fields=["status", *fields, "updated_at"])
    save_versioned(article, [])
    changes = {"status": [before, status]}
    if fields.get("review_comment"):
        changes["review_comment"] = [None, fields["review_comment"]]
    audit.record(actor=actor, action=f"review_{status}", instance=article, changes=changes)


def _revision_changes(before: dict, revision: ArticleRevision) -> dict:
    return audit.diff(
        before, audit.snapshot(revision, ["title", "body", "category", "visibility", "tag_names", "status"])
    )
