"""Complaint analysis (F4): counts by type, cause, channel, team and month, SLA attainment, repeat complaints and the
satisfaction trend, each over the tickets the caller may see; the page, its charts' data, the API and the XLSX."""

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook

from guanxi.service import analysis, rollups
from guanxi.service.models import ReturnVisit, Ticket, TicketCause
from tests.conftest import errors_by_field, fresh
from tests.service.factories import Clock, at, make_ticket

PERIOD = {"from": "2026-01-01", "to": "2026-04-30"}


def _cause(name):
    return TicketCause.objects.filter(ticket_type__code="complaint").order_by("id")[0 if name == "first" else 1]


@pytest.fixture
def tickets(users, customers, monkeypatch):
    """am1's customer c1 (team B01-T1): three complaints, two with the same cause 10 days apart (a repeat), one
    consultation; am2's c2 (team B01-T2): one complaint; am3's c3 (B02-T1): one complaint; all Jan–Mar 2026."""
    clock = Clock(monkeypatch, at(2026, 1, 5, 9, 0))
    first, second = _cause("first"), _cause("second")
    made = {}
    made["c1_jan"] = make_ticket(users.am1, customers.c1, ticket_type="complaint", channel="web")
    clock.set(at(2026, 1, 15, 9, 0))
    made["c1_repeat"] = make_ticket(users.am1, customers.c1, ticket_type="complaint")
    clock.set(at(2026, 3, 2, 9, 0))
    made["c1_other"] = make_ticket(users.am1, customers.c1, ticket_type="complaint")
    made["c1_consult"] = make_ticket(users.am1, customers.c1)
    made["c2"] = make_ticket(users.am2, customers.c2, ticket_type="complaint")
    made["c3"] = make_ticket(users.am3, customers.c3, ticket_type="complaint")
    clock.set(at(2026, 4, 1, 9, 0))
    Ticket.objects.filter(pk__in=[made["c1_jan"].pk, made["c1_repeat"].pk, made["c2"].pk]).update(cause=first)
    Ticket.objects.filter(pk=made["c1_other"].pk).update(cause=second)
    # SLA: c1_jan answered in time and resolved late; c1_repeat answered late.
    Ticket.objects.filter(pk=made["c1_jan"].pk).update(
        responded_at=at(2026, 1, 5, 9, 20), resolved_at=at(2026, 1, 20, 9, 0), resolution_breached=True
    )
    Ticket.objects.filter(pk=made["c1_repeat"].pk).update(responded_at=at(2026, 1, 16, 9, 0), response_breached=True)
    for ticket, score, month in ((made["c1_jan"], 2, 1), (made["c1_repeat"], 4, 2), (made["c3"], 5, 3)):
        ReturnVisit.objects.create(
            ticket=ticket,
            closed_at=at(2026, month, 20, 9, 0),
            due_at=at(2026, month, 21, 9, 0),
            status=ReturnVisit.Status.COMPLETED,
            satisfaction=score,
            completed_at=at(2026, month, 21, 10, 0),
        )
    rollups.rebuild()  # written by UPDATE, not through the services (as bench/generate_tickets.py does)
    return made


def _figures(api, user, **params):
    response = api(user).get("/tickets/analysis", {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _counts(rows):
    return {row["label"]: row["count"] for row in rows}


def _keys(rows):
    return {row["key"]: row["count"] for row in rows}


def test_the_branch_manager_sees_the_branch_figures(api, users, tickets, org):
    body = _figures(api, users.bm1)
    assert body["total"] == 5  # B01: c1's four, c2's one; not B02's c3
    assert _keys(body["by_type"]) == {"complaint": 4, "consultation": 1}
    assert _keys(body["by_channel"]) == {"web": 1, "hotline": 4}
    assert {row["label"] for row in body["by_type"]} == {"投诉", "咨询"}  # labels in the user's language
    assert _counts(body["by_month"]) == {"2026-01": 2, "2026-03": 3}
    assert {row["key"]: row["count"] for row in body["by_team"]} == {org.B01_T1.pk: 4, org.B01_T2.pk: 1}
    causes = {row["key"]: row["count"] for row in body["by_cause"]}
    assert causes == {_cause("first").pk: 3, _cause("second").pk: 1, None: 1}
    january = next(row for row in body["sla_by_month"] if row["label"] == "2026-01")
    assert (january["response_met"], january["response_breached"], january["response_rate"]) == (1, 1, 50.0)
    assert (january["resolution_met"], january["resolution_breached"], january["resolution_rate"]) == (0, 1, 0.0)
    team = next(row for row in body["sla_by_team"] if row["key"] == org.B01_T1.pk)
    assert team["response_breached"] == 1 and team["resolution_breached"] == 1


def test_repeat_complaints_count_the_same_customer_and_cause_within_the_window(api, users, tickets):
    repeats = _figures(api, users.bm1)["repeats"]
    assert (repeats["complaints"], repeats["repeats"], repeats["days"]) == (4, 1, 30)
    assert repeats["rate"] == 25.0
    assert {row["label"]: row["repeats"] for row in repeats["by_month"]} == {"2026-01": 1, "2026-03": 0}
    assert [row["key"] for row in repeats["by_cause"]] == [_cause("first").pk]
    assert _figures(api, users.bm1, repeat_days=9)["repeats"]["repeats"] == 0  # 10 days apart
    # c2's complaint has the same cause but another customer: never a repeat of c1's.


def test_the_satisfaction_trend_averages_the_return_visits_of_the_tickets(api, users, tickets):
    trend = _figures(api, users.bm1)["satisfaction_by_month"]
    assert [(row["label"], row["visits"], row["satisfaction"]) for row in trend] == [
        ("2026-01", 1, 2.0),
        ("2026-02", 1, 4.0),
    ]  # c3's visit (B02) is not theirs


def test_a_team_lead_sees_only_their_team(api, users, tickets, org):
    body = _figures(api, users.lead1)
    assert body["total"] == 4 and {row["key"] for row in body["by_team"]} == {org.B01_T1.pk}
    assert _figures(api, users.lead2)["total"] == 1
    # Choosing another team shows only what they may see of it: nothing.
    assert _figures(api, users.lead1, team=org.B01_T2.pk)["total"] == 0
    assert _figures(api, users.bm1, team=org.B01_T2.pk)["total"] == 1


def test_an_account_manager_sees_only_their_customers_tickets(api, users, customers, tickets):
    make_ticket(users.agent1, customers.c1, ticket_type="complaint")  # received by an agent of B01-T3
    body = _figures(api, users.am1, to="2026-12-31")
    assert body["total"] == 5  # c1's tickets, whoever received them
    assert _figures(api, users.am2)["total"] == 1
    assert _figures(api, users.am3)["satisfaction_by_month"] == [
        {"key": "2026-03", "label": "2026-03", "visits": 1, "satisfaction": 5.0}
    ]


def test_the_period_filters_by_creation_date_in_local_time(api, users, tickets):
    assert _figures(api, users.bm1, **{"from": "2026-03-02", "to": "2026-03-02"})["total"] == 3
    assert _figures(api, users.bm1, **{"from": "2026-03-03", "to": "2026-03-31"})["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-04-01", "to": "2026-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
        ({"team": "abc"}, "team"),
        ({"team": "999999"}, "team"),
        ({"repeat_days": "0"}, "repeat_days"),
        ({"repeat_days": "400"}, "repeat_days"),
    ],
)
def test_bad_filters_are_422_naming_the_field(api, users, params, field):
    response = api(users.bm1).get("/tickets/analysis", params)
    assert response.status_code == 422 and field in errors_by_field(response)


def test_who_may_not_read_tickets_gets_403_and_anonymous_401(api, users):
    from django.contrib.auth.models import Group

    users.am1.groups.set(Group.objects.none())
    assert api(users.am1).get("/tickets/analysis").status_code == 403
    assert api().get("/tickets/analysis").status_code == 401


def test_the_queries_do_not_grow_with_the_tickets(api, users, customers, tickets, django_assert_max_num_queries):
    """One aggregate query per figure, however many tickets: a fixed number for 6 tickets and for 26."""
    client = api(users.bm1)
    client.get("/tickets/analysis", PERIOD)  # the session and the permission caches warm up
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/tickets/analysis", PERIOD).status_code == 200
    for _ in range(20):
        make_ticket(users.am1, customers.c1, ticket_type="complaint")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/tickets/analysis", {**PERIOD, "to": "2026-12-31"}).json()["total"] == 25
    assert len(many) == len(few)
    with django_assert_max_num_queries(25):
        client.get("/tickets/analysis", PERIOD)


def _page_data(html: str) -> dict:
    marker = '<script id="analysis-data" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_shows_charts_data_and_tables_in_scope(client, users, tickets):
    client.force_login(users.lead1)
    response = client.get("/service/analysis/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="sla_by_month"' in html and "vendor/echarts/echarts.common.min.js" in html
    assert "<script>" not in html.replace('<script type="application/json"', "")  # no inline script (CSP)
    data = _page_data(html)
    assert data["total"] == 4 and data["labels"]["response_met"]
    client.force_login(users.bm2)
    assert _page_data(client.get("/service/analysis/", PERIOD).content.decode())["total"] == 1
    bad = client.get("/service/analysis/", {"to": "garbage"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()  # the default period, and why


def test_the_export_is_the_same_figures_as_xlsx(client, users, tickets):
    client.force_login(users.lead1)
    response = client.get("/service/analysis/export/", PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    summary = list(book.worksheets[0].iter_rows(values_only=True))
    assert summary[1][2] == 4  # tickets
    # summary, 7 counts, 2 SLA, reopens, repeats by month and by cause, satisfaction
    assert len(book.worksheets) == 14
    by_type = {row[0]: row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert by_type == {"投诉": 3, "咨询": 1}
    satisfaction = list(book.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert satisfaction == [("2026-01", 1, 2), ("2026-02", 1, 4)]


def _csv_blocks(response) -> dict[str, list[list[str]]]:
    """The CSV export's blocks by title: header and rows."""
    import csv

    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # BOM: Excel reads the Chinese right
    blocks, current = {}, None
    for row in csv.reader(text[1:].splitlines()):
        if not row:
            current = None
        elif current is None:
            current = blocks.setdefault(row[0], [])
        else:
            current.append(row)
    return blocks


def test_the_csv_export_is_the_same_figures_in_scope_and_never_a_formula(client, users, tickets):
    TicketCause.objects.filter(pk=_cause("first").pk).update(name='=HYPERLINK("http://x")')
    client.force_login(users.lead1)
    response = client.get("/service/analysis/export.csv", PERIOD)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('.csv"')
    blocks = _csv_blocks(response)
    assert blocks["概览"][1][2] == "4"  # tickets: lead1's team only
    assert dict(blocks["按类型"][1:]) == {"投诉": "3", "咨询": "1"}
    causes = dict(blocks["按原因"][1:])
    assert causes['\'=HYPERLINK("http://x")'] == "2"  # neutralised: text, not a formula
    assert not any(cell.startswith("=") for block in blocks.values() for row in block for cell in row)
    assert len(blocks) == 14
    client.force_login(users.bm2)
    other = _csv_blocks(client.get("/service/analysis/export.csv", PERIOD))
    assert other["概览"][1][2] == "1"  # B02 sees its one ticket, nothing of B01's
    client.logout()
    assert client.get("/service/analysis/export.csv", PERIOD).status_code == 302


def test_the_page_shows_priorities_grades_and_reopens(client, users, tickets):
    from tests.service.factories import move

    move(tickets["c1_consult"], users.am1, "accept", "resolve", "reopen")
    client.force_login(users.lead1)
    html = client.get("/service/analysis/", PERIOD).content.decode()
    data = _page_data(html)
    assert data["reopens"] == 1 and data["reopens_by_month"] == [{"key": "2026-03", "label": "2026-03", "count": 1}]
    assert {row["key"]: row["count"] for row in data["by_priority"]} == {"normal": 4}
    assert {row["key"]: row["count"] for row in data["by_grade"]} == {"general": 4}
    assert 'data-chart="by_priority"' in html and 'data-chart="reopens_by_month"' in html
    assert "按优先级" in html and "按客户等级" in html and "重开" in html


def test_the_selector_is_usable_without_http(users, tickets):
    filters = analysis.filters_from(date_from="2026-01-01", date_to="2026-04-30", team=None, repeat_days=None)
    result = analysis.complaint_analysis(user=fresh(users.bm2), filters=filters)
    assert result.total == 1 and result.repeats["repeats"] == 0
