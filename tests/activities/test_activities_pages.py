"""The activity pages: my activities, log a call from the 360 view, edit with versions, complete with next step."""

from django.test import Client
from django.urls import reverse

from guanxi.activities.models import Activity
from tests.activities.factories import make_activity
from tests.conftest import make_contact


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_home_lists_my_activities_and_filters_with_htmx(users, customers):
    mine = make_activity(users.am1, customers.c1, subject="我的拜访")
    make_activity(users.am1, customers.c1, subject="我的电话", kind="outbound_call")
    make_activity(users.am2, customers.c2, subject="别人的拜访")
    client = client_for(users.am1)
    page = client.get(reverse("activities:home")).content.decode()
    assert "我的拜访" in page and "我的电话" in page and "别人的拜访" not in page
    fragment = client.get(reverse("activities:home"), {"kind": "visit"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert f'data-activity="{mine.pk}"' in body and "我的电话" not in body
    bad = client.get(reverse("activities:home"), {"date_from": "yesterday"}).content.decode()
    assert "date_from" in bad  # named as ignored, not a 500


def test_log_a_call_from_the_customer_360_view(users, customers):
    contact = make_contact(users.am1, customers.c1, name="李经理")
    client = client_for(users.am1)
    detail = client.get(reverse("customers:detail", args=[customers.c1.pk])).content.decode()
    create_url = reverse("activities:create") + f"?customer={customers.c1.pk}"
    assert create_url in detail.replace("&amp;", "&")
    form = client.get(create_url).content.decode()
    assert "李经理" in form and customers.c1.number in form
    response = client.post(
        create_url,
        {
            "kind": "outbound_call",
            "subject": "电话回访",
            "customer": customers.c1.number,
            "contact_ids": [contact.pk],
            "done": "on",
            "phone_number": "13800138000",
            "call_result": "busy",
            "duration_seconds": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get(subject="电话回访")
    assert activity.status == Activity.Status.DONE
    assert activity.call_result == Activity.CallResult.BUSY
    assert list(activity.contacts.all()) == [contact]


def test_the_form_shows_errors_beside_the_fields_and_stores_nothing(users, customers):
    client = client_for(users.am1)
    response = client.post(
        reverse("activities:create"),
        {"kind": "visit", "subject": "拜访", "customer": customers.c2.number, "call_result": "busy"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="customer"' in body
    response = client.post(reverse("activities:create"), {"kind": "visit", "subject": "拜访", "call_result": "busy"})
    assert 'data-field="call_result"' in response.content.decode()
    assert not Activity.objects.filter(subject="拜访").exists()


def test_edit_with_a_stale_version_keeps_the_input_and_warns(users, customers):
    activity = make_activity(users.am1, customers.c1, subject="旧主题")
    client = client_for(users.am1)
    url = reverse("activities:edit", args=[activity.pk])
    data = {"kind": "visit", "subject": "新主题", "customer": customers.c1.number, "version": 1}
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "subject": "又一个主题"})
    assert stale.status_code == 200
    assert "又一个主题" in stale.content.decode()
    assert Activity.objects.get(pk=activity.pk).subject == "新主题"


def test_complete_with_next_step_from_the_detail_page(users, customers):
    activity = make_activity(users.am1, customers.c1)
    client = client_for(users.am1)
    detail = client.get(reverse("activities:detail", args=[activity.pk])).content.decode()
    assert reverse("activities:complete", args=[activity.pk]) in detail
    response = client.post(
        reverse("activities:complete", args=[activity.pk]),
        {"version": 1, "outcome": "客户认可", "next_step": "下周送样", "next_step_at": "2026-03-09T09:00"},
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == Activity.Status.DONE and activity.outcome == "客户认可"
    follow_up = Activity.objects.get(follow_up_of=activity)
    assert follow_up.subject == "下周送样" and follow_up.kind == Activity.Kind.TASK
    assert follow_up.planned_start.isoformat().startswith("2026-03-09T09:00:00+08:00") or follow_up.planned_start


def test_timeline_fragment_filters_by_kind(users, customers):
    make_activity(users.am1, customers.c1, subject="一次拜访", kind="visit")
    make_activity(users.am1, customers.c1, subject="一封邮件", kind="email")
    client = client_for(users.am1)
    body = client.get(reverse("activities:timeline", args=[customers.c1.pk]), {"kind": "email"}).content.decode()
    assert "一封邮件" in body and "一次拜访" not in body


def test_every_page_polls_for_screen_pops(users):
    page = client_for(users.agent1).get(reverse("activities:home")).content.decode()
    assert reverse("activities:screen_pops") in page
