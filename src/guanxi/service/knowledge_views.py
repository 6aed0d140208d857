"""Knowledge base pages (htmx) under /service/kb/: list and search, the article with its versions and review actions,
the editor, and two fragments for tickets — suggestions while the ticket form is typed, and the "knowledge" box of
the ticket page (linked articles, "did this help?", suggestions from the ticket's subject and description).

Every read goes through knowledge_selectors / knowledge_search, every write through knowledge_services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import search
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.service import knowledge_search
from guanxi.service import knowledge_selectors as kb
from guanxi.service import knowledge_services as services
from guanxi.service.models.knowledge import BODY_MAX_LENGTH, Visibility

REVIEW_ACTIONS = ("submit", "withdraw", "approve", "reject")


def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def _require_reader(request: HttpRequest) -> None:
    if not kb.can_read(request.user):
        raise Http404


@login_required
def kb_home(request: HttpRequest) -> HttpResponse:
    """The knowledge base: search box, category tree, published articles (or search hits), and the drafts to work on."""
    _require_reader(request)
    q = search.parse(request.GET.get("q", "")).text
    category_id = _int(request.GET.get("category"))
    context = {
        "q": q,
        "categories": kb.category_tree(),
        "category_id": category_id,
        "drafts": kb.drafts_list(user=request.user),
        "hits": None,
        "page": None,
        "next_query": None,
    }
    if len(q) >= search.MIN_QUERY_LENGTH:
        terms = search.parse(q).terms
        context["hits"] = [
            {"hit": hit, "snippet": hit.snippet(terms)}
            for hit in knowledge_search.article_search(user=request.user, q=q)
        ]
    else:
        try:
            page = kb.article_list(user=request.user, category_id=category_id, cursor=request.GET.get("cursor"))
        except BadCursor:
            page = kb.article_list(user=request.user, category_id=category_id)
        context["page"] = page
        if page.next:
            query = request.GET.copy()
            query["cursor"] = page.next
            context["next_query"] = query.urlencode()
    if request.htmx:
        return render(request, "service/knowledge/_results.html", context)
    return render(request, "service/knowledge/home.html", context)


@login_required
def kb_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    """An article: the published version, its history, the draft and its review for the author and reviewers."""
    article = kb.article_get(user=request.user, article_id=article_id)
    draft = article.draft if kb.may_see_draft(request.user, article) else None
    context = {
        "article": article,
        "shown": article.current or draft,
        "draft": draft,
        "tags": kb.article_tags(article),
        "votes": kb.article_votes(article=article),
        "versions": kb.article_versions(user=request.user, article_id=article_id),
        "may_edit": request.user.has_perm("service.change_article")
        and (draft is None or (draft.author_id == request.user.pk and draft.status != "in_review")),
        "may_submit": draft is not None
        and draft.author_id == request.user.pk
        and draft.status in ("draft", "rejected"),
        "may_withdraw": draft is not None and draft.author_id == request.user.pk and draft.status == "in_review",
        "may_review": draft is not None
        and draft.status == "in_review"
        and kb.can_review(request.user)
        and draft.author_id != request.user.pk,
    }
    return render(request, "service/knowledge/detail.html", context)


@login_required
def kb_diff(request: HttpRequest, article_id: int) -> HttpResponse:
    """Two published versions side by side, line by line (?old=1&new=2)."""
    old, new = _int(request.GET.get("old")), _int(request.GET.get("new"))
    if old is None or new is None:
        raise Http404
    diff = kb.version_diff(user=request.user, article_id=article_id, old=old, new=new)
    return render(request, "service/knowledge/diff.html", {"diff": diff, "article_id": article_id})


@login_required
def kb_version(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    revision = kb.article_version(user=request.user, article_id=article_id, number=number)
    return render(request, "service/knowledge/version.html", {"revision": revision, "article_id": article_id})


@login_required
def kb_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    """New article, or the draft of an existing one (started from the published version)."""
    article = kb.article_get(user=request.user, article_id=article_id) if article_id else None
    if not request.user.has_perm("service.add_article" if article is None else "service.change_article"):
        raise PermissionDenied
    source = None
    if article is not None:
        source = article.draft if kb.may_see_draft(request.user, article) else article.current
    errors: dict[str, list[str]] = {}
    values = {
        "title": source.title if source else "",
        "body": source.body if source else "",
        "category_id": source.category_id if source else None,
        "visibility": source.visibility if source else Visibility.INTERNAL,
        "tags": "，".join(source.tag_names) if source else "",
    }
    if request.method == "POST":
        values = {
            "title": request.POST.get("title", ""),
            "body": request.POST.get("body", ""),
            "category_id": _int(request.POST.get("category_id")),
            "visibility": request.POST.get("visibility", Visibility.INTERNAL),
            "tags": request.POST.get("tags", ""),
        }
        try:
            if article is None:
                article = services.article_create(actor=request.user, data=values)
            else:
                version = _int(request.POST.get("version")) or 0
                services.article_update(actor=request.user, article_id=article.pk, version=version, data=values)
        except ValidationError as exc:
            errors = exc.message_dict
        except StaleVersion:
            messages.error(request, str(StaleVersion.message))
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Draft saved. Submit it for review to publish it."))
            return redirect("service:kb:detail", article.pk)
    context = {
        "article": article,
        "values": values,
        "errors": errors,
        "categories": kb.category_tree(),
        "visibilities": Visibility.choices,
        "body_max_length": BODY_MAX_LENGTH,
    }
    return render(request, "service/knowledge/form.html", context)


@login_required
@require_POST
def kb_review(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    """submit / withdraw (the author), approve / reject (a reviewer other than the author)."""
    if action not in REVIEW_ACTIONS:
        raise Http404
    version = _int(request.POST.get("version")) or 0
    comment = request.POST.get("comment", "")
    calls = {
        "submit": lambda: services.article_submit(actor=request.user, article_id=article_id, version=version),
        "withdraw": lambda: services.article_withdraw(actor=request.user, article_id=article_id, version=version),
        "approve": lambda: services.article_approve(
            actor=request.user, article_id=article_id, version=version, comment=comment
        ),
        "reject": lambda: services.article_reject(
            actor=request.user, article_id=article_id, version=version, comment=comment
        ),
    }
    done = {
        "submit": _("Submitted for review."),
        "withdraw": _("Withdrawn from review."),
        "approve": _("Approved and published."),
        "reject": _("Sent back to the author."),
    }
    _perform(request, calls[action], done[action])
    return redirect("service:kb:detail", article_id)


def _perform(request: HttpRequest, call, success: str) -> bool:
    try:
        call()
    except StaleVersion:
        messages.error(request, str(StaleVersion.message))
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
        return True
    return False


@login_required
def kb_suggest(request: HttpRequest) -> HttpResponse:
    """The ticket form's hook: articles matching its subject and description as they are typed (an htmx fragment)."""
    if not kb.can_read(request.user):
        return HttpResponse("")
    text = " ".join(request.GET.get(name, "")[:2000] for name in ("subject", "description"))
    hits = knowledge_search.article_suggestions(user=request.user, text=text)
    return render(request, "service/knowledge/_suggestions.html", {"hits": hits})


@login_required
def ticket_box(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The "knowledge" box of the ticket page: linked articles with "did this help?", and suggestions to link."""
    if not kb.can_read(request.user):
        return HttpResponse("")
    ticket, links = kb.ticket_articles(user=request.user, ticket_id=ticket_id)
    linked = {row["article"].pk for row in links}
    suggestions = [
        hit
        for hit in knowledge_search.article_suggestions(
            user=request.user, text=f"{ticket.subject} {ticket.description[:2000]}", limit=8
        )
        if hit.article_id not in linked and not hit.is_draft
    ][: knowledge_search.SUGGEST_LIMIT]
    context = {
        "ticket": ticket,
        "links": links,
        "suggestions": suggestions,
        "may_link": request.user.has_perm("service.change_ticket"),
    }
    return render(request, "service/knowledge/_ticket_box.html", context)


@login_required
@require_POST
def ticket_box_action(request: HttpRequest, ticket_id: int, article_id: int, action: str) -> HttpResponse:
    """link / unlink / helpful / not_helpful from the ticket's knowledge box; answers with the box again (htmx)."""
    calls = {
        "link": lambda: services.ticket_article_link(actor=request.user, ticket_id=ticket_id, article_id=article_id),
        "unlink": lambda: services.ticket_article_unlink(
            actor=request.user, ticket_id=ticket_id, article_id=article_id
        ),
        "helpful": lambda: services.article_vote(
            actor=request.user, ticket_id=ticket_id, article_id=article_id, helpful=True
        ),
        "not_helpful": lambda: services.article_vote(
            actor=request.user, ticket_id=ticket_id, article_id=article_id, helpful=False
        ),
    }
    if action not in calls:
        raise Http404
    _perform(request, calls[action], _("Saved."))
    if request.htmx:
        return ticket_box(request, ticket_id)
    return redirect("service:detail", ticket_id)
