"""Work reports (D3): assembled from the period's activities, written, submitted, reviewed or sent back, versioned,
audited, scoped, exported as XLSX."""

from datetime import datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from guanxi.activities import reports
from guanxi.activities.models import WorkReport
from guanxi.core.models import AuditLog
from tests.activities.factories import make_activity
from tests.conftest import errors_by_field

TZ = timezone.get_default_timezone()


def at(day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, 3, day, hour), TZ)


@pytest.fixture
def week(users, customers):
    """am1's activities in the week of Monday 2 March 2026, and one outside it."""
    return {
        "visit": make_activity(
            users.am1, customers.c1, subject="拜访甲一", status="done", done_at=at(3), outcome="同意扩容"
        ),
        "call": make_activity(users.am1, customers.c1, kind="outbound_call", subject="电话回访", planned_start=at(4)),
        "shared": make_activity(
            users.lead1, customers.c1, subject="联合拜访", planned_start=at(5), participant_ids=[users.am1.pk]
        ),
        "next_week": make_activity(users.am1, customers.c1, subject="下周拜访", planned_start=at(10)),
        "other": make_activity(users.am2, customers.c2, subject="乙的拜访", planned_start=at(3)),
    }


def create(client, period="weekly", day="2026-03-04", **texts):
    return client.post("/work-reports", {"period": period, "day": day, **texts})


def test_a_weekly_report_assembles_my_activities_of_the_week(api, users, week):
    response = create(api(users.am1), summary="本周拜访一户")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["period_start"], body["period_end"]) == ("2026-03-02", "2026-03-08")
    assert body["status"] == "draft" and body["summary"] == "本周拜访一户"
    assert [a["subject"] for a in body["activities"]] == ["拜访甲一", "电话回访", "联合拜访"]
    assert body["counts"]["visit"] == {"done": 1, "planned": 1, "cancelled": 0}
    assert AuditLog.objects.filter(object_type="activities.workreport", action="create").count() == 1


def test_a_daily_report_covers_one_day_and_a_second_one_is_a_conflict(api, users, week):
    client = api(users.am1)
    body = create(client, period="daily", day="2026-03-03").json()
    assert body["period_start"] == body["period_end"] == "2026-03-03"
    assert [a["subject"] for a in body["activities"]] == ["拜访甲一"]
    assert create(client, period="daily", day="2026-03-03").status_code == 409


def test_bad_input_names_the_field_and_writes_nothing(api, users):
    client = api(users.am1)
    assert "period" in errors_by_field(create(client, period="monthly"))
    assert "day" in errors_by_field(create(client, day="3月4日"))
    assert "summary" in errors_by_field(create(client, summary="长" * 10_001))
    assert not WorkReport.objects.exists()


def test_write_submit_review_with_versions(api, users, week):
    author, lead = api(users.am1), api(users.lead1)
    report = create(author).json()
    rid = report["id"]
    empty = author.post(f"/work-reports/{rid}/submit", {"version": 1})
    assert empty.status_code == 422 and "summary" in errors_by_field(empty)
    edited = author.patch(f"/work-reports/{rid}", {"version": 1, "summary": "完成一次拜访", "plans": "下周签约"})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert author.patch(f"/work-reports/{rid}", {"version": 1, "summary": "覆盖"}).status_code == 409
    assert lead.get(f"/work-reports/{rid}").status_code == 404  # someone else's draft is invisible
    submitted = author.post(f"/work-reports/{rid}/submit", {"version": 2})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert author.patch(f"/work-reports/{rid}", {"version": 3, "summary": "改"}).status_code == 409
    assert lead.post(f"/work-reports/{rid}/review", {"version": 2, "comment": "好"}).status_code == 409
    reviewed = lead.post(f"/work-reports/{rid}/review", {"version": 3, "comment": "继续跟进扩容"})
    assert reviewed.status_code == 200, reviewed.json()
    body = reviewed.json()
    assert (body["status"], body["reviewer_id"], body["review_comment"]) == ("reviewed", users.lead1.pk, "继续跟进扩容")
    entries = AuditLog.objects.filter(object_type="activities.workreport", object_id=str(rid))
    actions = set(entries.values_list("action", flat=True))
    assert actions == {"create", "update", "submit", "review"}


def test_a_submitted_report_keeps_its_activities_as_they_were(api, users, week):
    client = api(users.am1)
    rid = create(client, summary="总结").json()["id"]
    client.post(f"/work-reports/{rid}/submit", {"version": 1})
    client.patch(f"/activities/{week['call'].pk}", {"version": 1, "subject": "改过的主题"})
    subjects = [a["subject"] for a in client.get(f"/work-reports/{rid}").json()["activities"]]
    assert "电话回访" in subjects and "改过的主题" not in subjects


def test_the_lead_sends_a_report_back_with_a_reason(api, users, week):
    author, lead = api(users.am1), api(users.lead1)
    rid = create(author, summary="总结").json()["id"]
    author.post(f"/work-reports/{rid}/submit", {"version": 1})
    no_reason = lead.post(f"/work-reports/{rid}/review", {"version": 2, "decision": "returned"})
    assert no_reason.status_code == 422 and "comment" in errors_by_field(no_reason)
    returned = lead.post(f"/work-reports/{rid}/review", {"version": 2, "decision": "returned", "comment": "补充问题"})
    assert returned.json()["status"] == "draft"
    assert author.patch(f"/work-reports/{rid}", {"version": 3, "problems": "客户资金紧张"}).status_code == 200


def test_only_leads_in_scope_review_and_never_their_own(api, users, week):
    rid = create(api(users.am1), summary="总结").json()["id"]
    api(users.am1).post(f"/work-reports/{rid}/submit", {"version": 1})
    assert api(users.lead2).post(f"/work-reports/{rid}/review", {"version": 2}).status_code == 404  # other team
    assert api(users.bm2).get(f"/work-reports/{rid}").status_code == 404  # other branch
    assert api(users.am2).get(f"/work-reports/{rid}").status_code == 404
    assert api(users.am1).post(f"/work-reports/{rid}/review", {"version": 2}).status_code == 403  # no permission
    own = create(api(users.lead1), summary="组长周报").json()["id"]
    api(users.lead1).post(f"/work-reports/{own}/submit", {"version": 1})
    assert api(users.lead1).post(f"/work-reports/{own}/review", {"version": 2}).status_code == 403
    assert api(users.bm1).post(f"/work-reports/{own}/review", {"version": 2}).status_code == 200


def test_lists_are_scoped_and_filterable(api, users, week):
    for person in (users.am1, users.am2, users.am3):
        rid = create(api(person), summary="总结").json()["id"]
        api(person).post(f"/work-reports/{rid}/submit", {"version": 1})
    create(api(users.am1), period="daily", day="2026-03-03")  # a draft
    mine = api(users.am1).get("/work-reports").json()["items"]
    assert {r["author_id"] for r in mine} == {users.am1.pk} and len(mine) == 2
    lead = api(users.lead1).get("/work-reports").json()["items"]
    assert [r["author_id"] for r in lead] == [users.am1.pk]  # the draft is not the lead's business
    branch = api(users.bm1).get("/work-reports", {"status": "submitted"}).json()["items"]
    assert {r["author_id"] for r in branch} == {users.am1.pk, users.am2.pk}
    assert api(users.bm1).get("/work-reports", {"author_id": users.am3.pk}).json()["items"] == []
    assert api(users.bm1).get("/work-reports", {"status": "lost"}).status_code == 422


def test_the_list_costs_the_same_queries_for_more_reports(api, users):
    client = api(users.bm1)
    client.get("/work-reports")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/work-reports").status_code == 200
        return len(queries)

    for person in (users.am1,):
        rid = create(api(person), summary="总结").json()["id"]
        api(person).post(f"/work-reports/{rid}/submit", {"version": 1})
    few = count()
    for day in ("2026-03-10", "2026-03-17", "2026-03-24"):
        for person in (users.am1, users.am2, users.lead2):
            rid = create(api(person), day=day, summary="总结").json()["id"]
            api(person).post(f"/work-reports/{rid}/submit", {"version": 1})
    assert count() == few


def test_export_is_an_xlsx_of_the_visible_reports_and_their_activities(api, users, week):
    for person in (users.am1, users.am3):
        rid = create(api(person), summary="=SUM(A1)").json()["id"]
        api(person).post(f"/work-reports/{rid}/submit", {"version": 1})
    response = api(users.bm1).get("/work-reports/export")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    reports_sheet, activities_sheet = book.worksheets
    rows = list(reports_sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "AM1"  # am3 is in another branch
    assert rows[1][7] == "=SUM(A1)" and reports_sheet.cell(2, 8).data_type == "s"  # text, not a formula
    subjects = [row[4] for row in activities_sheet.iter_rows(min_row=2, values_only=True)]
    assert subjects == ["拜访甲一", "电话回访", "联合拜访"]


def test_control_characters_in_a_report_do_not_break_the_export(api, users, week):
    # pasted text with a control character (\x0b, \x1f) made openpyxl refuse the cell: a 500 (found by tests/fuzz)
    rid = create(api(users.am1), summary="第一行\x0b第二行\x1f", plans="\x08计划").json()["id"]
    api(users.am1).post(f"/work-reports/{rid}/submit", {"version": 1})

    response = api(users.lead1).get("/work-reports/export")

    assert response.status_code == 200
    row = list(load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))[1]
    assert row[7:9] == ("第一行第二行", "计划")


def test_analysts_do_not_read_work_reports(api, users, week):
    # analysts hold no activities.view_workreport (activities/roles.py): no report is in their scope
    rid = create(api(users.am1), summary="周报").json()["id"]
    api(users.am1).post(f"/work-reports/{rid}/submit", {"version": 1})

    assert api(users.analyst1).get(f"/work-reports/{rid}").status_code == 404
    assert api(users.analyst1).get("/work-reports").json()["items"] == []
    assert api(users.lead1).get(f"/work-reports/{rid}").status_code == 200


def test_a_draft_exports_its_live_activities(users, week):
    from tests.conftest import fresh

    reports.report_create(actor=fresh(users.am1), period="weekly", day=at(4).date())
    book = load_workbook(BytesIO(reports.reports_xlsx(user=fresh(users.am1), filters=reports.ReportFilters())))
    subjects = [r[4] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert subjects == ["拜访甲一", "电话回访", "联合拜访"]


def test_the_pages_write_submit_and_review(client, users, week):
    client.force_login(users.am1)
    created = client.post("/activities/reports/new/", {"period": "weekly", "day": "2026-03-04"})
    assert created.status_code == 302
    report = WorkReport.objects.get()
    page = client.get(created["Location"]).content.decode()
    assert "拜访甲一" in page and 'name="summary"' in page
    client.post(created["Location"], {"action": "submit", "version": 1, "summary": "本周总结"})
    report.refresh_from_db()
    assert report.status == "submitted" and report.summary == "本周总结"
    stale = client.post(created["Location"], {"action": "save", "version": 1, "summary": "晚了"}, follow=True)
    assert WorkReport.objects.get().summary == "本周总结" and stale.status_code == 200
    client.force_login(users.lead1)
    assert "AM1" in client.get("/activities/reports/").content.decode()
    client.post(created["Location"], {"action": "reviewed", "version": report.version, "comment": "阅"})
    assert WorkReport.objects.get().status == "reviewed"
    export = client.get("/activities/reports/export/")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(users.am2)
    assert client.get(created["Location"]).status_code == 404
