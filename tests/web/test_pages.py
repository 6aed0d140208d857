"""The web workspace: every page answers, respects scope, shows form errors in place, serves htmx fragments."""

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core.models import AuditLog, Preference, SavedFilter
from guanxi.customers.models import Contact, Customer
from tests.conftest import PASSWORD, make_contact

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def web():
    def signed_in(user):
        client = Client()
        client.force_login(user)
        return client

    return signed_in


def test_it_redirects_anonymous_users_to_the_login_page(db):
    response = Client().get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_logs_in_with_a_password_and_out_again(users):
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "am1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302


def test_it_refuses_a_wrong_password_on_the_login_page(users):
    response = Client().post("/login/", {"username": "am1", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("path", ["/customers/", "/customers/new/", "/contacts/", "/search/?q=电力", "/password/"])
def test_it_renders_the_main_pages(web, users, customers, path):
    assert web(users.am1).get(path).status_code == 200


def test_it_lists_only_customers_in_scope(web, users, customers):
    names = {c.name for c in web(users.am1).get("/customers/").context["page"].items}
    assert names == {"甲一电力客户"}
    names = {c.name for c in web(users.bm1).get("/customers/").context["page"].items}
    assert names == {"甲一电力客户", "乙二电力客户", "敏感客户"}


def test_it_answers_404_for_a_customer_outside_the_scope(web, users, customers):
    client = web(users.am1)
    assert client.get(f"/customers/{customers.c2.pk}/").status_code == 404
    assert client.get(f"/customers/{customers.c2.pk}/edit/").status_code == 404
    assert client.get(f"/customers/{customers.sensitive.pk}/").status_code == 404
    assert client.get(f"/customers/{customers.c1.pk}/").status_code == 200


def test_it_filters_with_htmx_returning_only_the_table(web, users, customers):
    response = web(users.bm1).get("/customers/?q=乙二", **HTMX)
    html = response.content.decode()
    assert "乙二电力客户" in html and "甲一电力客户" not in html
    assert "<html" not in html  # a fragment, not a page


def test_it_ignores_invalid_filters_and_says_so(web, users, customers):
    response = web(users.am1).get("/customers/?grade=nonsense")
    assert response.status_code == 200
    assert response.context["bad_fields"] == ["grade"]


def test_it_creates_a_customer_from_the_form(web, users):
    response = web(users.am1).post(
        "/customers/new/",
        {
            "name": "齐齐哈尔钢铁有限公司",
            "kind": "organisation",
            "stage": "potential",
            "grade": "key",
            "tags": "高耗能，双电源",
        },
    )
    customer = Customer.objects.get(name="齐齐哈尔钢铁有限公司")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == users.am1
    assert sorted(customer.tags.values_list("name", flat=True)) == ["双电源", "高耗能"]


def test_it_shows_service_errors_beside_the_field_and_writes_nothing(web, users):
    before = Customer.objects.count(), AuditLog.objects.count()
    response = web(users.am1).post(
        "/customers/new/",
        {
            "name": "坏数据公司",
            "kind": "organisation",
            "stage": "potential",
            "grade": "general",
            "credit_code": "91110105000000001X",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert "unified social credit code" in response.content.decode()
    assert (Customer.objects.count(), AuditLog.objects.count()) == before


def test_it_shows_form_errors_in_chinese_by_default(web, users):
    response = web(users.am1).post(
        "/customers/new/", {"name": "", "kind": "organisation", "stage": "potential", "grade": "general"}
    )
    assert "必填" in response.content.decode()


def test_it_edits_a_customer_and_the_change_appears_in_history(web, users, customers):
    client = web(users.am1)
    c1 = customers.c1
    response = client.post(
        f"/customers/{c1.pk}/edit/",
        {
            "name": c1.name,
            "kind": "organisation",
            "stage": "active",
            "grade": "key",
            "version": c1.version,
        },
    )
    assert response.status_code == 302
    page = client.get(f"/customers/{c1.pk}/")
    history = dict(page.context["panels"][[p.key for p, _d in page.context["panels"]].index("history")][1][0])
    assert history["changes"]["grade"] == ["general", "key"]


def test_it_keeps_what_the_user_typed_when_the_edit_is_stale(web, users, customers):
    c1 = customers.c1
    response = web(users.am1).post(
        f"/customers/{c1.pk}/edit/",
        {
            "name": "我输入的新名字",
            "kind": "organisation",
            "stage": "active",
            "grade": "key",
            "version": c1.version + 7,
        },
    )
    assert response.status_code == 200
    assert response.context["stale"] is True
    assert "我输入的新名字" in response.content.decode()
    assert Customer.objects.get(pk=c1.pk).name == "甲一电力客户"


def test_it_never_writes_back_a_masked_id_number(web, users):
    from tests.conftest import id_number, make_customer

    number = id_number()
    customer = make_customer(users.am1, name="张三", kind="individual", id_number=number)
    client = web(users.am1)
    form = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    assert form.initial["id_number"] != number  # masked for an account manager
    client.post(
        f"/customers/{customer.pk}/edit/",
        {
            "name": "张三",
            "kind": "individual",
            "stage": "active",
            "grade": "general",
            "id_number": form.initial["id_number"],
            "version": customer.version,
        },
    )
    customer.refresh_from_db()
    assert customer.id_number == number and customer.stage == "active"


def test_it_remembers_the_chosen_panels_and_their_order(web, users, customers):
    client = web(users.am1)
    client.post(
        f"/customers/{customers.c1.pk}/panels/",
        {"panels": ["profile", "history", "bogus"], "order_history": "1", "order_profile": "2", "order_contacts": "3"},
    )
    assert Preference.objects.get(user=users.am1).value == ["history", "profile"]
    page = client.get(f"/customers/{customers.c1.pk}/")
    assert [panel.key for panel, _data in page.context["panels"]] == ["history", "profile"]


def test_it_adds_a_contact_sets_primary_and_serves_a_vcard(web, users, customers):
    client = web(users.bm1)
    first = make_contact(users.am1, customers.c1, name="王经理", mobile="13812345678")
    response = client.post(f"/customers/{customers.c1.pk}/contacts/new/", {"name": "李电工", "mobile": "13900001111"})
    assert response.status_code == 302
    second = Contact.objects.get(name="李电工")
    client.post(f"/contacts/{second.pk}/primary/", {"version": second.version})
    assert Contact.objects.get(pk=second.pk).primary and not Contact.objects.get(pk=first.pk).primary
    card = client.get(f"/contacts/{second.pk}/vcard/")
    assert card["Content-Type"].startswith("text/vcard")
    assert "FN:李电工" in card.content.decode() and "13900001111" in card.content.decode()


def test_it_leaves_masked_phones_out_of_the_vcard(web, users, customers):
    contact = make_contact(users.am1, customers.c1, name="王经理", mobile="13812345678")
    body = web(users.am1).get(f"/contacts/{contact.pk}/vcard/").content.decode()
    assert "FN:王经理" in body and "1381234" not in body


def test_it_lists_contacts_in_scope_with_masked_phones(web, users, customers):
    make_contact(users.am1, customers.c1, name="王经理", mobile="13812345678")
    make_contact(users.am2, customers.c2, name="赵会计", mobile="13712345678")
    html = web(users.am1).get("/contacts/").content.decode()
    assert "王经理" in html and "138****5678" in html
    assert "赵会计" not in html and "13812345678" not in html


def test_it_saves_and_deletes_a_filter(web, users):
    client = web(users.am1)
    client.post("/customers/filters/", {"name": "重点客户", "query": "grade=key"})
    saved = SavedFilter.objects.get(user=users.am1)
    assert saved.query == "grade=key"
    assert "重点客户" in client.get("/customers/").content.decode()
    client.post(f"/customers/filters/{saved.pk}/delete/")
    assert not SavedFilter.objects.exists()


def test_it_transfers_and_tags_selected_customers(web, users, customers):
    client = web(users.lead1)
    client.post("/customers/bulk/", {"ids": [customers.c1.pk], "action": "tag", "tag": "重要用户"})
    assert list(customers.c1.tags.values_list("name", flat=True)) == ["重要用户"]
    response = web(users.bm1).post(
        "/customers/bulk/", {"ids": [customers.c1.pk, customers.c2.pk], "action": "transfer", "to_user": users.am2.pk}
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(pk__in=[customers.c1.pk, customers.c2.pk]).values_list("owner", flat=True)) == {
        users.am2.pk
    }


def test_it_refuses_bulk_actions_to_read_only_roles(web, users, customers):
    web(users.agent1).post("/customers/bulk/", {"ids": [customers.c1.pk], "action": "tag", "tag": "x"})
    assert not customers.c1.tags.exists()


def test_it_switches_language_and_remembers_it(web, users):
    client = web(users.am1)
    response = client.post("/language/", {"language": "en", "next": "/customers/"})
    assert response.status_code == 302
    users.am1.profile.refresh_from_db()
    assert users.am1.profile.language == "en"
    html = client.get("/customers/").content.decode()
    assert "New customer" in html and "新建客户" not in html
    client.post("/language/", {"language": "zh-hans", "next": "/customers/"})
    html = client.get("/customers/").content.decode()
    assert "新建客户" in html


def test_it_refuses_an_offsite_redirect_after_switching_language(web, users):
    response = web(users.am1).post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_it_marks_modules_not_built_yet_as_planned(web, users):
    html = web(users.am1).get("/customers/").content.decode()
    assert 'class="planned"' in html
    nav = web(users.am1).get("/customers/").context["nav_items"]
    assert all(item["url"] is None or item["url"].startswith("/") for item in nav)


def test_it_groups_search_results_by_kind(web, users, customers):
    make_contact(users.am1, customers.c1, name="王经理", mobile="13812345678")
    client = web(users.am1)
    groups = dict((kind.key, hits) for kind, hits in client.get("/search/?q=电力").context["groups"])
    assert [hit.title for hit in groups["customers"]] == ["甲一电力客户"]
    groups = dict((kind.key, hits) for kind, hits in client.get("/search/?q=5678").context["groups"])
    assert [hit.title for hit in groups["contacts"]] == ["王经理"]
    fragment = client.get("/search/?q=电力", **HTMX).content.decode()
    assert "<html" not in fragment and "甲一电力客户" in fragment
