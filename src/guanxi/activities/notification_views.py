"""Notification centre pages (J4): every notice of yours (keyset pages) and your preferences per kind (htmx form)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.activities import notifications
from guanxi.core.pagination import BadCursor


@login_required
def notification_list_page(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    try:
        page = notifications.notification_page(
            user=request.user, cursor=request.GET.get("cursor"), limit=50, unread_only=unread_only
        )
    except BadCursor:
        page = notifications.notification_page(user=request.user, limit=50, unread_only=unread_only)
    labels = dict(notifications.Kind.choices)
    context = {
        "page": page,
        "rows": [(notice, labels.get(notice.kind, notice.kind)) for notice in page.items],
        "unread": notifications.unread_count(user=request.user),
        "unread_only": unread_only,
    }
    return render(request, "activities/notification_list.html", context)


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """GET: the page; POST (htmx): save every kind's two checkboxes and answer with the form again."""
    saved, error = False, ""
    if request.method == "POST":
        wanted = {
            kind: {"in_app": f"{kind}.in_app" in request.POST, "email": f"{kind}.email" in request.POST}
            for kind in notifications.Kind.values
        }
        try:
            notifications.preferences_set(actor=request.user, preferences=wanted)
            saved = True
        except ValidationError as exc:
            error = " ".join(exc.messages)
    labels = dict(notifications.Kind.choices)
    rows = [(kind, labels[kind], channels) for kind, channels in notifications.preferences_of(request.user).items()]
    context = {"rows": rows, "saved": saved, "error": error, "has_email": bool(request.user.email)}
    template = (
        "activities/notification_preferences_form.html" if request.htmx else "activities/notification_preferences.html"
    )
    response = render(request, template, context)
    if error:
        response.status_code = 422
    return response
