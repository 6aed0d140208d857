"""Shell pages: home, language switch, global search."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from guanxi.core import search, services


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers:list")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; signed-in users keep it as their preference (the API follows it too)."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        code = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        services.profile_update(actor=request.user, language=code)
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    translation.activate(code)
    response = HttpResponseRedirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, samesite="Lax")
    return response


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    results = search.search_all(user=request.user, q=q, limit=20)
    groups = [(kind, results.get(kind.key, [])) for kind in search.kinds()]
    template = "core/search_results.html" if request.htmx else "core/search.html"
    return render(
        request, template, {"search_q": q, "groups": groups, "too_short": 0 < len(q) < search.MIN_QUERY_LENGTH}
    )
