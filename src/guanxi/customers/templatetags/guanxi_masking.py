from django import template

from guanxi.core import masking

register = template.Library()


@register.filter
def phone_for(value: str, user) -> str:
    return masking.phone_for(user, value or "")
