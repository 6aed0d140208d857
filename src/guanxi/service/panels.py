"""The "tickets" panel of the customer 360 view: the customer's latest tickets and how many are open."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers.panels import Panel, register
from guanxi.service import selectors

PANEL_LIMIT = 10


def tickets_panel(*, user, customer) -> dict:
    tickets = selectors.tickets_of_customer(user=user, customer_id=customer.pk, limit=PANEL_LIMIT)
    return {
        "tickets": [
            {
                "id": t.pk,
                "number": t.number,
                "subject": t.subject,
                "type": str(t.get_ticket_type_display()),
                "status": t.status,
                "status_label": str(t.get_status_display()),
                "owner": t.owner.get_full_name() or t.owner.username,
                "created_at": t.created_at.isoformat(),
                "sla_due_at": t.sla_due_at.isoformat(),
                "breached": t.sla_state >= t.SlaState.BREACHED,
                "url": reverse("service:detail", args=[t.pk]),
            }
            for t in tickets
        ],
        "new_url": reverse("service:create") + f"?customer={customer.pk}",
    }


register(Panel("tickets", _("Tickets"), tickets_panel, "service/panels/tickets.html", order=50))
