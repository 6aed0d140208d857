"""The "satisfaction" panel of the customer 360 view: the latest satisfaction and NPS answer, and the averages."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.customers.panels import Panel, register
from guanxi.service import satisfaction


def satisfaction_panel(*, user, customer) -> dict:
    data = satisfaction.customer_satisfaction(user=user, customer=customer)
    latest = data["latest"]
    if latest and latest.get("ticket_id"):
        latest["url"] = reverse("service:detail", args=[latest["ticket_id"]])
    return data


register(Panel("satisfaction", _("Satisfaction"), satisfaction_panel, "service/panels/satisfaction.html", order=55))
