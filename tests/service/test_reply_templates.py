"""One-click reply templates: per team or global, written by leads and administrators, filled in for a ticket
(`GET /reply-templates?ticket=`) and offered on the ticket page's picker."""

from django.utils import timezone

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.service.models import ReplyTemplate
from tests.conftest import errors_by_field
from tests.service.factories import make_ticket

BODY = "您好{customer}，您的工单{ticket_number}（{subject}）将于{due}前处理完毕。{agent}"


def _unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def _create(api, user, **body):
    body.setdefault("name", "受理答复")
    body.setdefault("body", BODY)
    return api(user).post("/reply-templates", body)


def test_a_lead_writes_templates_for_the_own_team_and_an_administrator_for_everyone(users, api):
    team = _create(api, users.lead1, team_id=_unit("B01-T1").pk)
    assert team.status_code == 201, team.content
    assert team.json()["team"]["id"] == _unit("B01-T1").pk and team.json()["version"] == 1
    shared = _create(api, users.bm1, name="通用致歉", body="非常抱歉给您带来不便，{customer}。")
    assert shared.status_code == 201 and shared.json()["team"] is None
    assert AuditLog.objects.filter(object_type="service.replytemplate", action="create").count() == 2


def test_writing_outside_the_own_scope_or_role_is_refused(users, api):
    assert errors_by_field(_create(api, users.lead1)).keys() == {"team_id"}  # everyone's: administrators only
    other_team = _create(api, users.lead1, team_id=_unit("B01-T2").pk)
    assert other_team.status_code == 422 and "team_id" in errors_by_field(other_team)
    assert _create(api, users.lead1, team_id=999_999).status_code == 422
    assert _create(api, users.agent1, team_id=_unit("B01-T3").pk).status_code == 403
    assert not ReplyTemplate.objects.exists()


def test_an_unknown_merge_field_or_an_empty_text_names_the_field(users, api):
    unknown = _create(api, users.bm1, body="您好{customer_name}，{due}")
    assert unknown.status_code == 422
    assert "{customer_name}" in errors_by_field(unknown)["body"][0]
    empty = _create(api, users.bm1, name=" ", body="x")
    assert empty.status_code == 422 and "name" in errors_by_field(empty)
    assert not ReplyTemplate.objects.exists()


def test_a_team_template_is_seen_by_its_team_and_managers_only(users, api):
    template = _create(api, users.lead1, team_id=_unit("B01-T1").pk).json()
    shared = _create(api, users.bm1, name="通用", body="{customer}").json()
    for user in (users.lead1, users.am1, users.bm1, users.exec1):
        names = {t["id"] for t in api(user).get("/reply-templates").json()["items"]}
        assert names == {template["id"], shared["id"]}, user.username
    for user in (users.agent2, users.lead2, users.am3):
        assert {t["id"] for t in api(user).get("/reply-templates").json()["items"]} == {shared["id"]}
        assert api(user).get(f"/reply-templates/{template['id']}").status_code == 404
    assert api(users.lead2).patch(f"/reply-templates/{template['id']}", {"version": 1, "name": "x"}).status_code == 404


def test_the_templates_are_filled_in_for_a_ticket(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1, subject="电费咨询")
    own_team = _create(api, users.bm1, name="班组答复", body=BODY, team_id=_unit("B01-T3").pk).json()
    _create(api, users.bm1, name="停用的", body="{customer}", active=False)
    _create(api, users.bm2, name="B02的", body="{customer}", team_id=_unit("B02-T3").pk)
    response = api(users.agent1).get("/reply-templates", {"ticket": ticket.pk})
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [t["id"] for t in items] == [own_team["id"]]
    due = timezone.localtime(ticket.sla_due_at).strftime("%Y-%m-%d %H:%M")
    name = users.agent1.get_full_name() or users.agent1.username
    assert (
        items[0]["text"] == f"您好{customers.c1.name}，您的工单{ticket.number}（电费咨询）将于{due}前处理完毕。{name}"
    )
    assert items[0]["body"] == BODY
    # A ticket out of scope is not found, and neither are its templates' values.
    assert api(users.agent2).get("/reply-templates", {"ticket": ticket.pk}).status_code == 404


def test_an_unknown_caller_is_greeted_by_name(users, api):
    ticket = make_ticket(users.agent1, caller_name="王先生", caller_phone="13900001111")
    _create(api, users.bm1, name="通用", body="{customer}您好")
    items = api(users.agent1).get("/reply-templates", {"ticket": ticket.pk}).json()["items"]
    assert items[0]["text"] == "王先生您好"


def test_update_and_delete_check_the_version(users, api):
    template = _create(api, users.lead1, team_id=_unit("B01-T1").pk).json()
    url = f"/reply-templates/{template['id']}"
    changed = api(users.lead1).patch(url, {"version": 1, "body": "{customer}，已受理。", "active": False})
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.json()["active"] is False
    stale = api(users.lead1).patch(url, {"version": 1, "name": "旧"})
    assert stale.status_code == 409
    assert api(users.lead1).patch(url, {"version": 2, "body": "{nope}"}).status_code == 422
    assert api(users.lead1).get("/reply-templates").json()["items"] == []  # retired
    assert len(api(users.lead1).get("/reply-templates", {"active": False}).json()["items"]) == 1
    assert api(users.lead1).delete(f"{url}?version=1").status_code == 409
    assert api(users.lead2).delete(f"{url}?version=2").status_code == 404
    assert api(users.lead1).delete(f"{url}?version=2").status_code == 204
    assert not ReplyTemplate.objects.exists()
    assert AuditLog.objects.filter(object_type="service.replytemplate", action="delete").exists()


def test_the_merge_fields_are_listed(users, api):
    names = [field["name"] for field in api(users.agent1).get("/reply-templates/fields").json()]
    assert {"customer", "ticket_number", "due"} <= set(names)


def test_the_ticket_page_offers_the_picker_that_fills_the_reply_box(users, customers, api, client):
    ticket = make_ticket(users.agent1, customers.c1)
    _create(api, users.bm1, name="受理答复", body="{customer}：工单{ticket_number}已受理")
    client.force_login(users.agent1)
    page = client.get(f"/service/{ticket.pk}/").content.decode()
    assert f'hx-get="/service/tools/{ticket.pk}/"' in page
    fragment = client.get(f"/service/tools/{ticket.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert f'data-reply-text="{customers.c1.name}：工单{ticket.number}已受理"' in fragment
    assert "service/reply_templates.js" in fragment
    client.force_login(users.agent2)
    assert client.get(f"/service/tools/{ticket.pk}/").status_code == 404
