""" "Open" means two things in Chinese: a deal still being worked on (进行中) and a ticket not yet finished (未办结).
All apps' catalogs merge into one, so each use carries its own context and both come out right in one process."""

from django.utils import translation

from guanxi.sales.models import Opportunity, Stage
from guanxi.service.views import _status_choices


def test_open_is_a_deal_state_in_sales_and_an_unfinished_ticket_in_service():
    with translation.override("zh-hans"):
        assert str(Opportunity.Status.OPEN.label) == "进行中"
        assert str(Stage.Outcome.OPEN.label) == "进行中"
        assert dict(_status_choices())["open"] == "未办结"
    with translation.override("en"):
        assert str(Opportunity.Status.OPEN.label) == "Open"
        assert dict(_status_choices())["open"] == "Open"
