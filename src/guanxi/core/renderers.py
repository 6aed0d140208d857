"""The API's JSON: orjson instead of the standard library's encoder.

ninja hands the renderer plain Python (validated models already dumped). The standard encoder calls back into Python
for every datetime, date and Decimal — on a 50-row page with five timestamps a row that was a fifth of the request's
Python time. orjson encodes them natively. What it does not know goes through `_default`, which answers as Django's
encoder does (Decimal as a string, durations in ISO 8601, lazy translations as text).

Differences from DjangoJSONEncoder, both within RFC 3339: times keep their microseconds (Django cut them to
milliseconds); UTC is still written with "Z".
"""

from datetime import timedelta
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

import orjson
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise
from ninja.renderers import BaseRenderer
from pydantic import AnyUrl, BaseModel
from pydantic_core import Url

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS  # "…Z" as before; dicts keyed by ids, as json.dumps allows


def _default(value: Any) -> Any:
    if isinstance(value, Decimal | Promise):
        return str(value)
    if isinstance(value, timedelta):
        return duration_iso_string(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, AnyUrl | Url | IPv4Address | IPv6Address | IPv4Network | IPv6Network):
        return str(value)  # as ninja's encoder does
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data: Any, *, response_status: int) -> bytes:
        # UTF-8 as is: Chinese text stays readable and small (orjson never escapes it).
        return orjson.dumps(data, default=_default, option=OPTIONS)
