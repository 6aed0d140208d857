"""The API's JSON renderer (core.renderers): the types our responses carry, encoded as Django's encoder did, except
that times keep their microseconds."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from ipaddress import IPv4Address

import pytest
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy, override
from pydantic import BaseModel

from guanxi.core.renderers import FastJSONRenderer
from guanxi.customers.models import Customer
from tests.conftest import make_customer


def render(data) -> dict:
    raw = FastJSONRenderer().render(None, data, response_status=200)
    return json.loads(raw)


class Point(BaseModel):
    x: int


def test_it_encodes_what_the_responses_carry_as_djangos_encoder_did():
    with override("zh-hans"):
        body = render(
            {
                "at": datetime(2026, 11, 27, 5, 6, 7, 891234, tzinfo=UTC),
                "day": date(2026, 11, 27),
                "amount": Decimal("12345.60"),
                "took": timedelta(hours=1, minutes=30),
                "label": gettext_lazy("Not found."),
                "point": Point(x=3),
                "ip": IPv4Address("127.0.0.1"),
                "by_stage": {7: 1, 8: 2},
            }
        )

    assert body == {
        "at": "2026-11-27T05:06:07.891234Z",
        "day": "2026-11-27",
        "amount": "12345.60",  # a string: no float rounding of money
        "took": "P0DT01H30M00S",
        "label": "未找到。",
        "point": {"x": 3},
        "ip": "127.0.0.1",
        "by_stage": {"7": 1, "8": 2},
    }


def test_it_refuses_what_it_does_not_know_instead_of_guessing():
    with pytest.raises(TypeError):
        FastJSONRenderer().render(None, {"x": object()}, response_status=200)


def test_an_api_response_is_utf8_and_its_times_round_trip_exactly(users, api):
    customer = make_customer(users.am1, name="华能示范电厂")

    response = api(users.am1).get(f"/customers/{customer.pk}")

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "华能示范电厂".encode() in response.content  # not \\u escapes
    stored = Customer.objects.get(pk=customer.pk)
    assert parse_datetime(response.json()["created_at"]) == stored.created_at
