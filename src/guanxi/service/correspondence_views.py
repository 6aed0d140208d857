"""The ticket page's thread (htmx): the messages, the complaint handling summary, the reply form and the customer's
acceptance. Reads through selectors and correspondence/complaints, writes through their services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.service import complaints, correspondence, selectors, services
from guanxi.service.models import TicketMessage

M = TicketMessage


def _context(request: HttpRequest, ticket, *, errors=None, values=None) -> dict:
    may_act = services.may_act(request.user, ticket)
    directions = [(d, label) for d, label in M.Direction.choices if may_act or d == M.Direction.INTERNAL]
    return {
        "ticket": ticket,
        "thread": correspondence.thread(user=request.user, ticket=ticket),
        "handling": complaints.handling_of(ticket),
        "is_repeat": complaints.is_repeat(ticket),
        "repeats": complaints.earlier_complaints(user=request.user, ticket=ticket),
        "repeat_days": complaints.repeat_days(),
        "may_act": may_act,
        "may_write": request.user.has_perm("service.change_ticket"),
        "directions": directions,
        "channels": [(c, label) for c, label in M.Channel.choices if c != M.Channel.NOTE],
        "errors": {("general" if field == "__all__" else field): text for field, text in (errors or {}).items()},
        "values": values or {"direction": directions[0][0] if directions else "", "channel": "phone"},
    }


@login_required
@require_http_methods(["GET", "POST"])
def ticket_thread(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """GET: the thread fragment. POST: record a message (with files), then the refreshed fragment (or the form with
    the errors by field); the whole page reloads when the message moved the ticket (an acknowledgement accepts it)."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    if request.method == "GET":
        return render(request, "service/_thread.html", _context(request, ticket))
    values = {key: request.POST.get(key, "") for key in ("direction", "channel", "content", "recipient", "at")}
    values["is_reply"] = request.POST.get("is_reply") == "on"
    at = parse_datetime(values["at"]) if values["at"] else None
    errors = {}
    if values["at"] and at is None:
        errors["at"] = [_("Enter a valid date and time.")]
    files = [
        correspondence.FileIn(upload.name or "file", upload.content_type or "", upload.read())
        for upload in request.FILES.getlist("files")
    ]
    if not errors:
        try:
            correspondence.message_create(
                actor=request.user,
                ticket_id=ticket.pk,
                direction=values["direction"],
                channel=values["channel"],
                content=values["content"],
                at=at,
                is_reply=values["is_reply"],
                recipient=values["recipient"],
                files=files,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except (PermissionDenied, Conflict) as exc:
            errors = {"__all__": [str(exc)]}
    if errors and not request.htmx:  # a plain form post (no JavaScript): back to the page with the messages
        messages.error(request, " ".join(str(text) for texts in errors.values() for text in texts))
        return redirect("service:detail", ticket.pk)
    if errors:
        response = render(request, "service/_thread.html", _context(request, ticket, errors=errors, values=values))
        response.status_code = 422
        return response
    status = selectors.ticket_get(user=request.user, ticket_id=ticket.pk).status
    if not request.htmx:
        messages.success(request, _("Message recorded."))
        return redirect("service:detail", ticket.pk)
    response = render(request, "service/_thread.html", _context(request, ticket))
    if status != ticket.status:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def ticket_acceptance(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The customer's answer to the formal reply (a plain form post: it may close or reopen the ticket)."""
    version = int(request.POST["version"]) if request.POST.get("version", "").isdigit() else 0
    try:
        complaints.acceptance_record(
            actor=request.user,
            ticket_id=ticket_id,
            version=version,
            accepted=request.POST.get("accepted") == "yes",
            reason=request.POST.get("reason", ""),
        )
    except StaleVersion:
        messages.error(request, str(StaleVersion.message))
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The customer's answer is recorded."))
    return redirect("service:detail", ticket_id)


@login_required
def message_attachment(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    attachment = correspondence.attachment_get(user=request.user, ticket_id=ticket_id, attachment_id=attachment_id)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
