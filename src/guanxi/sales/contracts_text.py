"""Contract templates: Django's template language in a sandbox, merge fields only, autoescaped.

A template may use {{ field }} (with filters other than `safe`), {% if %} and {% comment %}; every field must be one
of MERGE_FIELDS (no attribute lookups, so no method of any object is reachable), and the context holds plain values.
"""

from decimal import Decimal

import cn2an
from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Node, TextNode, VariableNode
from django.template.defaulttags import CommentNode, IfNode, TemplateLiteral
from django.template.smartif import TokenBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MERGE_FIELDS = {
    "contract_number": gettext_lazy("contract number"),
    "contract_title": gettext_lazy("contract title"),
    "customer_name": gettext_lazy("customer name"),
    "customer_number": gettext_lazy("customer number"),
    "customer_address": gettext_lazy("customer address"),
    "customer_credit_code": gettext_lazy("customer's unified social credit code"),
    "party_a": gettext_lazy("party A"),
    "party_b": gettext_lazy("party B"),
    "start_date": gettext_lazy("start date"),
    "end_date": gettext_lazy("end date"),
    "value": gettext_lazy("contract value"),
    "value_in_words": gettext_lazy("contract value in words (人民币大写)"),
    "currency": gettext_lazy("currency"),
    "owner_name": gettext_lazy("account manager"),
    "today": gettext_lazy("today's date"),
}
_ALLOWED_NODES = (TextNode, VariableNode, IfNode, CommentNode)
_FORBIDDEN_FILTERS = {"safe", "safeseq"}

# No loaders, no tag libraries beyond the built-ins: {% include %}, {% extends %} and {% load %} cannot find anything.
_engine = Engine(loaders=[("django.template.loaders.locmem.Loader", {})], libraries={}, autoescape=True)


def check_template(body: str, field: str = "body"):
    """The compiled template, or ValidationError on `field` naming the unknown merge fields or forbidden tags."""
    try:
        template = _engine.from_string(body)
    except TemplateSyntaxError as exc:
        raise ValidationError({field: _("The template has a syntax error: %(error)s") % {"error": exc}}) from exc
    unknown: set[str] = set()
    for node in template.nodelist.get_nodes_by_type(Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValidationError(
                {field: _("Only merge fields, {% if %} and {% comment %} may be used in a template.")}
            )
        if isinstance(node, VariableNode):
            unknown |= _unknown_in(node.filter_expression)
        if isinstance(node, IfNode):
            for condition, _nodelist in node.conditions_nodelists:
                unknown |= _unknown_in_condition(condition)
    if unknown:
        raise ValidationError({field: _("Unknown merge fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}})
    return template


def render(body: str, values: dict, field: str = "body") -> str:
    """The template rendered with `values` (HTML-escaped); ValidationError names unknown fields."""
    template = check_template(body, field)
    return template.render(Context(values, autoescape=True))


def merge_values(contract) -> dict:
    """The merge fields of a contract as plain values (strings, dates, Decimals): nothing with methods to call."""
    customer = contract.customer
    owner = contract.owner
    value = Decimal(contract.value or 0)
    return {
        "contract_number": contract.number,
        "contract_title": contract.title,
        "customer_name": customer.name,
        "customer_number": customer.number,
        "customer_address": customer.address,
        "customer_credit_code": customer.credit_code or "",
        "party_a": contract.party_a,
        "party_b": contract.party_b,
        "start_date": _date(contract.start_date),
        "end_date": _date(contract.end_date),
        "value": f"{value:,.2f}",
        "value_in_words": cn2an.an2cn(f"{value:.2f}", "rmb") if value else "零元整",
        "currency": contract.currency,
        "owner_name": (owner.get_full_name() or owner.username) if owner else "",
        "today": _date(timezone.localdate()),
    }


def _date(value) -> str:
    return value.strftime("%Y年%m月%d日") if value else ""


def _unknown_in(expression) -> set[str]:
    found: set[str] = set()
    for func, args in expression.filters:
        if getattr(func, "_filter_name", func.__name__) in _FORBIDDEN_FILTERS:
            found.add(f"|{func.__name__}")
        for is_variable, argument in args:
            if is_variable:
                found |= _unknown_variable(argument)
    return found | _unknown_variable(expression.var)


def _unknown_variable(var) -> set[str]:
    lookups = getattr(var, "lookups", None)
    if lookups is None:  # a literal
        return set()
    if len(lookups) != 1 or lookups[0] not in MERGE_FIELDS:
        return {".".join(lookups)}
    return set()


def _unknown_in_condition(condition) -> set[str]:
    if condition is None:  # {% else %}
        return set()
    if isinstance(condition, TemplateLiteral):
        return _unknown_in(condition.value)
    if isinstance(condition, TokenBase):
        found = set()
        for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
            if part is not None:
                found |= _unknown_in_condition(part)
        return found
    return set()
