from dataclasses import asdict

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.core import search, selectors, services
from guanxi.core.pagination import keyset_page
from guanxi.core.roles import user_roles
from guanxi.core.schemas import (
    AuditPage,
    ErrorOut,
    MeOut,
    MePatch,
    SearchOut,
    SearchQueryIn,
    TokenIn,
    TokenOut,
)

router = Router(tags=["core"])


@router.post("/auth/token", auth=None, response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def issue_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once; send it as `Authorization: Bearer …`)."""
    try:
        token, clear = services.token_issue(
            username=payload.username,
            password=payload.password,
            client=request.META.get("REMOTE_ADDR"),
            name=payload.name,
        )
    except services.BadCredentials:
        return 401, {"detail": _("Wrong username or password."), "errors": []}
    return {"token": clear, "prefix": token.prefix, "created_at": token.created_at}


@router.post("/auth/token/revoke", response={204: None, 401: ErrorOut})
def revoke_token(request: HttpRequest):
    """Revoke the token this request was made with."""
    token = getattr(request, "api_token", None)
    if token is not None:
        services.token_revoke(actor=request.user, token=token)
    return 204, None


@router.get("/me", response={200: MeOut, 401: ErrorOut})
def me(request: HttpRequest):
    return _me(request.user)


@router.patch("/me", response={200: MeOut, 401: ErrorOut, 422: ErrorOut})
def update_me(request: HttpRequest, payload: MePatch):
    """Change your own preferences (language: "zh-hans", "en", or "" to follow the browser)."""
    services.profile_update(actor=request.user, **payload.model_dump(exclude_unset=True))
    request.user.refresh_from_db()
    return _me(request.user)


def _me(user):
    unit = selectors.org_unit_of(user)
    profile = getattr(user, "profile", None)
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.get_full_name() or user.username,
        "email": user.email,
        "roles": sorted(user_roles(user)),
        "org_unit": unit,
        "language": (profile.language if profile else "") or "",
        "permissions": sorted(user.get_all_permissions()),
    }


class AuditQuery(Schema):
    object_type: str = Field(..., max_length=64, description="e.g. customers.customer")
    object_id: str = Field(..., max_length=64)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


@router.get("/audit", response={200: AuditPage, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def audit_history(request: HttpRequest, query: Query[AuditQuery]):
    """The change history of one record, newest first (404 if the record is not visible to you)."""
    entries = selectors.audit_for_object(user=request.user, object_type=query.object_type, object_id=query.object_id)
    return keyset_page(entries, ordering="-id", cursor=query.cursor, limit=query.limit)


@router.get("/search", response={200: SearchOut, 401: ErrorOut, 422: ErrorOut})
def search_everything(request: HttpRequest, query: Query[SearchQueryIn]):
    """The global search: hits grouped by kind, only records you may see, phones masked as elsewhere.

    Finds parts of names of two or more characters (钢铁 finds 齐齐哈尔钢铁有限公司), customer numbers, credit codes,
    ID numbers, and phone numbers whole or by their last 4 digits. A query shorter than two characters finds nothing.
    """
    results = search.search_all(user=request.user, q=query.q, limit=query.limit)
    return {"results": {key: [asdict(hit) for hit in hits] for key, hits in results.items()}}
