"""The knowledge review workflow through the API: every allowed and refused step, versions and their diff, optimistic
locking, bad input (422 naming the field, nothing written) and the audit trail."""

import pytest

from guanxi.service.models import Article, ArticleCategory, ArticleRevision
from tests.conftest import audit_count, errors_by_field
from tests.service.knowledge_factories import draft, edit, publish, submit


def create(api, user, **data):
    payload = {"title": "停电报修处理流程", "body": "第一步：核实地址。\n第二步：派单抢修。", **data}
    return api(user).post("/articles", payload)


def act(api, user, article_id, action, **payload):
    version = Article.objects.get(pk=article_id).version
    return api(user).post(f"/articles/{article_id}/{action}", {"version": version, **payload})


def test_an_author_writes_and_a_reviewer_publishes(users, api):
    created = create(api, users.agent1, tags=["停电", "报修", "停电"], visibility="customers")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["current"] is None and body["draft"]["status"] == "draft" and body["draft"]["tags"] == ["停电", "报修"]
    article_id = body["id"]

    submitted = act(api, users.agent1, article_id, "submit")
    assert submitted.status_code == 200 and submitted.json()["draft"]["status"] == "in_review"

    approved = act(api, users.lead1, article_id, "approve", comment="内容准确")
    assert approved.status_code == 200, approved.content
    article = approved.json()
    assert article["draft"] is None and article["current"]["number"] == 1
    assert (
        article["current"]["reviewed_by"]["id"] == users.lead1.pk and article["current"]["review_comment"] == "内容准确"
    )
    assert article["visibility"] == "customers" and sorted(article["tags"]) == ["停电", "报修"]
    assert api(users.exec1).get(f"/articles/{article_id}").json()["title"] == "停电报修处理流程"
    assert audit_count(object_type="service.article", object_id=str(article_id), action="approve") == 1
    assert audit_count(object_type="service.article", object_id=str(article_id), action="review_in_review") == 1


def test_authors_cannot_approve_or_reject_their_own_draft(users, api):
    article = draft(users.lead1)  # a reviewer writing: another reviewer must decide
    submit(article, users.lead1)
    assert act(api, users.lead1, article.pk, "approve").status_code == 403
    assert act(api, users.lead1, article.pk, "reject", comment="自己驳回").status_code == 403
    assert act(api, users.lead2, article.pk, "approve").status_code == 200


def test_writers_without_the_review_permission_cannot_decide(users, api):
    article = draft(users.agent1)
    submit(article, users.agent1)
    response = act(api, users.am1, article.pk, "approve")
    assert response.status_code in (403, 404)  # am1 does not even see agent1's draft
    response = act(api, users.agent2, article.pk, "approve")
    assert response.status_code in (403, 404)
    assert ArticleRevision.objects.get(article=article).status == "in_review"


def test_only_a_submitted_draft_can_be_decided_and_only_its_author_submits(users, api):
    article = draft(users.agent1)
    assert act(api, users.lead1, article.pk, "approve").status_code == 409
    assert act(api, users.lead1, article.pk, "reject", comment="x").status_code == 409
    assert act(api, users.lead1, article.pk, "submit").status_code == 403  # a reviewer, not the author
    assert act(api, users.agent1, article.pk, "submit").status_code == 200
    assert act(api, users.agent1, article.pk, "submit").status_code == 409  # already in review
    assert act(api, users.agent1, article.pk, "withdraw").status_code == 200
    assert act(api, users.agent1, article.pk, "withdraw").status_code == 409
    published = publish(users.agent1, users.lead1)
    assert act(api, users.lead1, published.pk, "approve").status_code == 409  # no draft


def test_a_rejected_draft_goes_back_with_a_comment_and_can_be_resubmitted(users, api):
    article = draft(users.agent1)
    submit(article, users.agent1)
    missing = act(api, users.lead1, article.pk, "reject", comment="  ")
    assert missing.status_code == 422 and "comment" in errors_by_field(missing)
    rejected = act(api, users.lead1, article.pk, "reject", comment="请补充缴费渠道")
    assert rejected.status_code == 200
    assert rejected.json()["draft"]["status"] == "rejected"
    assert rejected.json()["draft"]["review_comment"] == "请补充缴费渠道"
    # While in review the author cannot edit; once rejected they can, and submit again.
    edited = api(users.agent1).patch(
        f"/articles/{article.pk}", {"version": rejected.json()["version"], "body": "可在营业厅、APP或银行缴费。"}
    )
    assert edited.status_code == 200 and edited.json()["draft"]["status"] == "draft"
    assert act(api, users.agent1, article.pk, "submit").status_code == 200
    assert act(api, users.lead1, article.pk, "approve").status_code == 200


def test_a_draft_in_review_or_of_another_author_cannot_be_edited(users, api):
    article = draft(users.agent1)
    submit(article, users.agent1)
    version = Article.objects.get(pk=article.pk).version
    assert api(users.agent1).patch(f"/articles/{article.pk}", {"version": version, "title": "新"}).status_code == 409
    published = publish(users.agent1, users.lead1)
    edit(published, users.agent1, title="新标题")
    version = Article.objects.get(pk=published.pk).version
    # lead1 sees agent1's draft (a reviewer) but may not write over it
    response = api(users.lead1).patch(f"/articles/{published.pk}", {"version": version, "title": "另一个标题"})
    assert response.status_code == 409


def test_every_published_edit_is_a_new_version_with_history_and_diff(users, api):
    article = publish(users.agent1, users.lead1, "峰谷电价", "峰时：8:00-22:00\n谷时：22:00-8:00")
    edit(article, users.agent2, title="峰谷分时电价", body="峰时：8:00-22:00\n谷时：22:00-次日8:00\n平时：无")
    reader = api(users.exec1)
    assert reader.get(f"/articles/{article.pk}").json()["title"] == "峰谷电价"  # readers keep version 1
    assert reader.get(f"/articles/{article.pk}").json()["draft"] is None
    submit(article, users.agent2)
    assert act(api, users.lead2, article.pk, "approve").status_code == 200

    versions = reader.get(f"/articles/{article.pk}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["author"]["id"] == users.agent2.pk and versions[1]["title"] == "峰谷电价"
    assert reader.get(f"/articles/{article.pk}/versions/1").json()["body"].startswith("峰时")
    assert reader.get(f"/articles/{article.pk}/versions/3").status_code == 404

    diff = reader.get(f"/articles/{article.pk}/diff", {"old": 1, "new": 2}).json()
    assert diff["old_title"] == "峰谷电价" and diff["new_title"] == "峰谷分时电价"
    assert {"op": "-", "text": "谷时：22:00-8:00"} in diff["lines"]
    assert {"op": "+", "text": "平时：无"} in diff["lines"]
    assert {"op": " ", "text": "峰时：8:00-22:00"} in diff["lines"]
    assert reader.get(f"/articles/{article.pk}/diff", {"old": 1, "new": 9}).status_code == 404


def test_a_stale_version_gets_409_and_changes_nothing(users, api):
    article = draft(users.agent1)
    response = api(users.agent1).patch(f"/articles/{article.pk}", {"version": article.version + 5, "title": "改"})
    assert response.status_code == 409 and response.json()["current_version"] == article.version
    stale = article.version
    edit(article, users.agent1, title="第二稿")
    assert api(users.agent1).post(f"/articles/{article.pk}/submit", {"version": stale}).status_code == 409
    assert ArticleRevision.objects.get(article=article).title == "第二稿"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"body": "长" * 10_001}, "body"),
        ({"visibility": "public"}, "visibility"),
        ({"category_id": 999_999}, "category_id"),
        ({"tags": ["长" * 51]}, "tags"),
        ({"tags": "停电"}, "tags"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_written(users, api, payload, field):
    before = (Article.objects.count(), ArticleRevision.objects.count())
    response = create(api, users.agent1, **payload)
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert (Article.objects.count(), ArticleRevision.objects.count()) == before


def test_bad_edit_input_is_422_and_leaves_the_draft(users, api):
    article = draft(users.agent1)
    response = api(users.agent1).patch(f"/articles/{article.pk}", {"version": article.version, "title": " "})
    assert response.status_code == 422 and "title" in errors_by_field(response)
    assert ArticleRevision.objects.get(article=article).title == "关于电费缴纳的说明"
    assert Article.objects.get(pk=article.pk).version == article.version


def test_readers_cannot_write_and_categories_form_a_tree(users, api):
    assert create(api, users.exec1).status_code == 403
    top = api(users.lead1).post("/article-categories", {"name": "电费"})
    assert top.status_code == 201
    child = api(users.lead1).post("/article-categories", {"name": "缴费方式", "parent_id": top.json()["id"]})
    assert child.status_code == 201 and child.json()["depth"] == 1
    duplicate = api(users.lead1).post("/article-categories", {"name": "缴费方式", "parent_id": top.json()["id"]})
    assert duplicate.status_code == 422 and "name" in errors_by_field(duplicate)
    assert api(users.agent1).post("/article-categories", {"name": "燃气"}).status_code == 403
    tree = api(users.agent1).get("/article-categories").json()
    assert [(c["name"], c["depth"]) for c in tree] == [("电费", 0), ("缴费方式", 1)]
    created = create(api, users.agent1, category_id=child.json()["id"])
    assert created.status_code == 201
    article = Article.objects.get(pk=created.json()["id"])
    assert article.category == ArticleCategory.objects.get(name="缴费方式")


def test_the_pages_write_review_and_compare(users, client):
    client.force_login(users.agent1)
    assert client.get("/service/kb/new/").status_code == 200
    refused = client.post("/service/kb/new/", {"title": "", "body": "正文", "visibility": "internal"})
    assert refused.status_code == 200 and Article.objects.count() == 0  # the form again, with the error
    created = client.post(
        "/service/kb/new/",
        {"title": "抄表周期说明", "body": "每月抄表一次。", "visibility": "customers", "tags": "抄表，周期"},
    )
    article = Article.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/service/kb/{article.pk}/"
    assert ArticleRevision.objects.get().tag_names == ["抄表", "周期"]
    client.post(f"/service/kb/{article.pk}/submit/", {"version": Article.objects.get().version})
    client.force_login(users.lead1)
    page = client.get(f"/service/kb/{article.pk}/").content.decode()
    assert f"/service/kb/{article.pk}/approve/" in page
    client.post(f"/service/kb/{article.pk}/approve/", {"version": Article.objects.get().version})
    assert Article.objects.get().current.number == 1
    client.force_login(users.agent1)
    assert client.get(f"/service/kb/{article.pk}/edit/").status_code == 200
    client.post(
        f"/service/kb/{article.pk}/edit/",
        {
            "version": Article.objects.get().version,
            "title": "抄表周期说明",
            "body": "每两个月抄表一次。",
            "visibility": "customers",
        },
    )
    client.post(f"/service/kb/{article.pk}/submit/", {"version": Article.objects.get().version})
    client.force_login(users.lead2)
    client.post(f"/service/kb/{article.pk}/approve/", {"version": Article.objects.get().version})
    diff = client.get(f"/service/kb/{article.pk}/diff/", {"old": 1, "new": 2}).content.decode()
    assert "每月抄表一次。" in diff and "每两个月抄表一次。" in diff
    assert client.get(f"/service/kb/{article.pk}/diff/", {"old": 1}).status_code == 404


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_reviewers_approving_one_draft_at_once_one_wins():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth import get_user_model
    from django.db import connection

    from guanxi.core.errors import StaleVersion
    from guanxi.service import knowledge_services as services
    from tests.conftest import build_org, build_users

    build_org()
    people = build_users()
    article = submit(draft(people["agent1"]), people["agent1"])
    barrier = threading.Barrier(2)

    def approve(username):
        try:
            barrier.wait(timeout=30)
            reviewer = get_user_model().objects.get(username=username)
            return services.article_approve(actor=reviewer, article_id=article.pk, version=article.version)
        except Exception as exc:  # noqa: BLE001 - the outcome of each racer is what the test inspects
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(approve, ["lead1", "lead2"]))
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(losers) == 1 and isinstance(losers[0], StaleVersion), results
    assert list(ArticleRevision.objects.filter(article=article).values_list("number", flat=True)) == [1]
    assert audit_count(object_type="service.article", object_id=str(article.pk), action="approve") == 1
