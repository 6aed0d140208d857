from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def iso_datetime(value: str):
    """An ISO 8601 string (as panels return them for the API) as an aware datetime in the active time zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed
