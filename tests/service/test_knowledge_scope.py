"""Who reads what in the knowledge base, on every read path (list, detail, versions, diff, search, suggestions, ticket
box, pages, audit history), the customer portal's selector, ticket links and "did this help?" votes."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from guanxi.service import knowledge_search
from guanxi.service import knowledge_selectors as kb
from guanxi.service.models import ArticleVote, TicketArticle
from tests.conftest import audit_count, errors_by_field, fresh
from tests.service.factories import make_ticket
from tests.service.knowledge_factories import draft, publish


@pytest.fixture
def outsider(org):
    """A signed-in account with no role (a future portal customer): no staff article is for them."""
    return get_user_model().objects.create_user("portal1", password="x")


@pytest.fixture
def articles(users):
    return {
        "internal": publish(users.agent1, users.lead1, "停电抢修内部流程", "班组接单后30分钟内到达现场。"),
        "public": publish(
            users.agent1, users.lead1, "电费缴纳渠道", "可通过网上国网APP、银行代扣缴纳电费。", visibility="customers"
        ),
        "draft": draft(users.am1, "电费发票开具草稿", "电子发票在APP下载。"),
    }


def paths(article_id: int) -> list[str]:
    return [
        f"/articles/{article_id}",
        f"/articles/{article_id}/versions",
        f"/articles/{article_id}/versions/1",
        f"/articles/{article_id}/diff?old=1&new=1",
    ]


def test_staff_roles_read_published_articles_internal_or_not(users, articles, api):
    for user in (users.exec1, users.analyst2, users.agent2, users.am3, users.bm2):
        client = api(user)
        listed = {item["id"] for item in client.get("/articles").json()["items"]}
        assert listed == {articles["internal"].pk, articles["public"].pk}
        for path in paths(articles["internal"].pk):
            assert client.get(path).status_code == 200, (user.username, path)


def test_a_draft_is_for_its_author_and_reviewers_only(users, articles, api):
    article_id = articles["draft"].pk
    for user in (users.exec1, users.analyst1, users.agent1, users.am2):
        client = api(user)
        assert client.get(f"/articles/{article_id}").status_code == 404, user.username
        assert client.get(f"/articles/{article_id}/versions").status_code == 404
        assert article_id not in {item["id"] for item in client.get("/articles").json()["items"]}
        assert client.get("/articles/search", {"q": "发票"}).json()["items"] == []
        suggested = client.get("/articles/suggestions", {"text": "电费发票开具"}).json()["items"]
        assert article_id not in {hit["id"] for hit in suggested}
        assert client.get("/audit", {"object_type": "service.article", "object_id": str(article_id)}).status_code == 404
    for user in (users.am1, users.lead2, users.bm1):
        client = api(user)
        assert client.get(f"/articles/{article_id}").json()["draft"]["title"] == "电费发票开具草稿"
        assert [hit["id"] for hit in client.get("/articles/search", {"q": "发票"}).json()["items"]] == [article_id]


def test_an_account_without_a_staff_role_sees_nothing(outsider, articles, api, client):
    api_client = api(outsider)
    assert api_client.get("/articles").json()["items"] == []
    for article in articles.values():
        for path in paths(article.pk):
            assert api_client.get(path).status_code == 404, path
    assert api_client.get("/articles/search", {"q": "电费"}).json()["items"] == []
    assert api_client.get("/articles/suggestions", {"text": "电费缴纳"}).json()["items"] == []
    assert api_client.get("/search", {"q": "电费"}).json()["results"]["articles"] == []
    assert api_client.get("/article-categories").json() == []
    client.force_login(outsider)
    assert client.get("/service/kb/").status_code == 404
    assert client.get(f"/service/kb/{articles['public'].pk}/").status_code == 404
    assert client.get("/service/kb/suggest/", {"subject": "电费缴纳"}).content == b""


def test_the_portal_selector_shows_published_customer_articles_only(users, articles):
    assert [a.pk for a in kb.customer_articles()] == [articles["public"].pk]
    draft(users.agent1, "燃气缴费渠道", "燃气费可在APP缴纳。", visibility="customers")  # not published: not shown
    assert [a.current.title for a in kb.customer_articles()] == ["电费缴纳渠道"]


def test_pages_follow_the_same_scope(users, articles, client):
    client.force_login(users.agent2)
    assert "停电抢修内部流程" in client.get("/service/kb/").content.decode()
    found = client.get("/service/kb/", {"q": "电费"}).content.decode()
    assert "电费缴纳渠道" in found and "电费发票开具草稿" not in found
    assert client.get(f"/service/kb/{articles['internal'].pk}/").status_code == 200
    assert client.get(f"/service/kb/{articles['draft'].pk}/").status_code == 404
    assert client.get(f"/service/kb/{articles['draft'].pk}/edit/").status_code == 404
    assert client.get(f"/service/kb/{articles['internal'].pk}/v1/").status_code == 200
    assert (
        f"/service/kb/{articles['internal'].pk}/edit/"
        in client.get(f"/service/kb/{articles['internal'].pk}/").content.decode()
    )
    client.force_login(users.exec1)  # reads, does not write
    assert client.get(f"/service/kb/{articles['internal'].pk}/edit/").status_code == 403
    assert client.get("/service/kb/new/").status_code == 403
    client.force_login(users.lead1)
    page = client.get(f"/service/kb/{articles['draft'].pk}/").content.decode()
    assert "电费发票开具草稿" in page


# --- ticket links and votes -----------------------------------------------------------------------------------------


@pytest.fixture
def ticket(users, customers):
    return make_ticket(users.agent1, subject="客户咨询电费缴纳渠道", description="APP无法缴费")


def vote(api, user, ticket_id, article_id, helpful):
    return api(user).post(f"/tickets/{ticket_id}/articles/{article_id}/vote", {"helpful": helpful})


def test_articles_are_linked_and_unlinked_idempotently(users, articles, ticket, api):
    client = api(users.agent1)
    first = client.post(f"/tickets/{ticket.pk}/articles", {"article_id": articles["public"].pk})
    assert first.status_code == 201 and [row["article_id"] for row in first.json()] == [articles["public"].pk]
    again = client.post(f"/tickets/{ticket.pk}/articles", {"article_id": articles["public"].pk})
    assert again.status_code == 201 and len(again.json()) == 1
    assert TicketArticle.objects.filter(ticket=ticket).count() == 1
    assert audit_count(object_type="service.ticket", object_id=str(ticket.pk), action="link_article") == 1
    assert client.post(f"/tickets/{ticket.pk}/articles", {"article_id": articles["draft"].pk}).status_code == 404
    own_draft = draft(users.agent1, "我的草稿", "草稿内容")
    assert client.post(f"/tickets/{ticket.pk}/articles", {"article_id": own_draft.pk}).status_code == 409
    assert client.delete(f"/tickets/{ticket.pk}/articles/{articles['public'].pk}").status_code == 204
    assert client.delete(f"/tickets/{ticket.pk}/articles/{articles['public'].pk}").status_code == 409
    assert client.get(f"/tickets/{ticket.pk}/articles").json() == []


def test_one_vote_per_user_and_ticket(users, articles, ticket, api):
    article_id = articles["public"].pk
    api(users.agent1).post(f"/tickets/{ticket.pk}/articles", {"article_id": article_id})
    assert vote(api, users.agent1, ticket.pk, article_id, True).json()["helpful_count"] == 1
    repeated = vote(api, users.agent1, ticket.pk, article_id, True).json()
    assert (repeated["helpful_count"], repeated["not_helpful_count"]) == (1, 0)
    changed = vote(api, users.agent1, ticket.pk, article_id, False).json()
    assert (changed["helpful_count"], changed["not_helpful_count"]) == (0, 1)
    # another user on the same ticket, and the same user on another ticket, count separately
    assert vote(api, users.bm1, ticket.pk, article_id, True).status_code == 200
    other = make_ticket(users.agent1, subject="电费缴纳咨询")
    api(users.agent1).post(f"/tickets/{other.pk}/articles", {"article_id": article_id})
    final = vote(api, users.agent1, other.pk, article_id, True).json()
    assert (final["helpful_count"], final["not_helpful_count"]) == (2, 1)
    assert ArticleVote.objects.filter(article_id=article_id).count() == 3
    rows = api(users.agent1).get(f"/tickets/{ticket.pk}/articles").json()
    assert rows[0]["my_vote"] is False and (rows[0]["helpful"], rows[0]["not_helpful"]) == (2, 1)
    assert api(users.exec1).get(f"/articles/{article_id}").json()["helpful"] == 2


def test_votes_need_a_link_a_visible_ticket_and_a_boolean(users, articles, ticket, api):
    article_id = articles["public"].pk
    assert vote(api, users.agent1, ticket.pk, article_id, True).status_code == 409  # not linked
    api(users.agent1).post(f"/tickets/{ticket.pk}/articles", {"article_id": article_id})
    bad = vote(api, users.agent1, ticket.pk, article_id, "maybe")
    assert bad.status_code == 422 and "helpful" in errors_by_field(bad)
    # agent2 (branch B02) does not see a B01 ticket: every ticket path is 404
    outsider = api(users.agent2)
    assert vote(api, users.agent2, ticket.pk, article_id, True).status_code == 404
    assert outsider.get(f"/tickets/{ticket.pk}/articles").status_code == 404
    assert outsider.post(f"/tickets/{ticket.pk}/articles", {"article_id": article_id}).status_code == 404
    assert outsider.delete(f"/tickets/{ticket.pk}/articles/{article_id}").status_code == 404
    assert ArticleVote.objects.count() == 0


def test_the_ticket_knowledge_box_suggests_links_and_votes(users, articles, ticket, client):
    client.force_login(users.agent1)
    detail = client.get(f"/service/{ticket.pk}/").content.decode()
    assert f"/service/kb/ticket/{ticket.pk}/" in detail
    box = client.get(f"/service/kb/ticket/{ticket.pk}/").content.decode()
    assert "电费缴纳渠道" in box and "电费发票开具草稿" not in box
    linked = client.post(
        f"/service/kb/ticket/{ticket.pk}/{articles['public'].pk}/link/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Did this help?" in linked or "有帮助" in linked
    client.post(f"/service/kb/ticket/{ticket.pk}/{articles['public'].pk}/helpful/", HTTP_HX_REQUEST="true")
    assert ArticleVote.objects.get(ticket=ticket).helpful is True
    client.force_login(users.agent2)
    assert client.get(f"/service/kb/ticket/{ticket.pk}/").status_code == 404


def test_the_ticket_box_and_suggestions_use_few_queries(users, articles, ticket, django_assert_max_num_queries):
    for article in ("public", "internal"):
        TicketArticle.objects.create(ticket=ticket, article=articles[article], linked_by=users.agent1)
    user = fresh(users.agent1)
    kb.ticket_articles(user=user, ticket_id=ticket.pk)
    with django_assert_max_num_queries(3):
        _ticket, rows = kb.ticket_articles(user=user, ticket_id=ticket.pk)
    assert len(rows) == 2
    with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 1):
        knowledge_search.article_suggestions(user=user, text=ticket.subject)
