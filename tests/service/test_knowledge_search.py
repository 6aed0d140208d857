"""Knowledge search: Chinese substrings, mixed Chinese/Latin/digits, title matches first, no match, drafts only for
those who may see them, the global search kind, suggestions while a ticket is typed, and query counts."""

import pytest
from django.db import connection

from guanxi.core import search
from guanxi.service import knowledge_search
from tests.conftest import fresh
from tests.service.knowledge_factories import draft, edit, publish, submit


def titles(hits) -> list[str]:
    return [hit.revision.title for hit in hits]


@pytest.fixture
def library(users):
    """Published articles by agent1, approved by lead1."""
    author, reviewer = users.agent1, users.lead1
    return {
        "payment": publish(author, reviewer, "关于电费缴纳的说明", "客户可在营业厅或网上国网APP缴费。"),
        "body_only": publish(author, reviewer, "营业厅办理指南", "营业厅可办理过户、更名，也可查询电费账单。"),
        "app": publish(author, reviewer, "95598APP绑定户号步骤", "打开APP，输入户号3100123456即可绑定。"),
        "gas": publish(author, reviewer, "燃气开户流程", "携带身份证到燃气营业厅办理开户。"),
        "long": publish(author, reviewer, "阶梯电价说明", "说明。" * 2000 + "峰谷分时电价执行时段为八点至二十二点。"),
    }


def test_it_finds_a_chinese_substring_of_a_title(users, library):
    hits = knowledge_search.article_search(user=fresh(users.exec1), q="电费")
    assert titles(hits)[0] == "关于电费缴纳的说明"
    assert "营业厅办理指南" in titles(hits)


def test_title_matches_come_before_text_matches(users, library):
    hits = knowledge_search.article_search(user=fresh(users.agent2), q="电费")
    assert [hit.in_title for hit in hits] == [True, False]
    assert titles(hits) == ["关于电费缴纳的说明", "营业厅办理指南"]


def test_it_finds_mixed_chinese_latin_and_digits_case_insensitively(users, library):
    user = fresh(users.analyst2)
    assert titles(knowledge_search.article_search(user=user, q="95598app绑定")) == ["95598APP绑定户号步骤"]
    assert titles(knowledge_search.article_search(user=user, q="3100123456")) == ["95598APP绑定户号步骤"]
    # Every word must be there, in the title or the text.
    assert titles(knowledge_search.article_search(user=user, q="燃气 身份证")) == ["燃气开户流程"]
    assert titles(knowledge_search.article_search(user=user, q="燃气 户号")) == []


def test_it_finds_words_deep_in_a_long_article(users, library):
    hits = knowledge_search.article_search(user=fresh(users.exec1), q="峰谷分时")
    assert titles(hits) == ["阶梯电价说明"]


def test_no_match_and_too_short_queries_find_nothing(users, library):
    user = fresh(users.exec1)
    assert knowledge_search.article_search(user=user, q="光伏并网") == []
    assert knowledge_search.article_search(user=user, q="电") == []
    assert knowledge_search.article_search(user=user, q="   ") == []


def test_drafts_are_found_only_by_their_author_and_reviewers(users, library):
    draft(users.am1, "光伏并网申请须知", "分布式光伏并网需提交申请。")
    assert knowledge_search.article_search(user=fresh(users.exec1), q="光伏") == []
    assert knowledge_search.article_search(user=fresh(users.agent1), q="光伏") == []
    assert titles(knowledge_search.article_search(user=fresh(users.am1), q="光伏")) == ["光伏并网申请须知"]
    assert titles(knowledge_search.article_search(user=fresh(users.lead2), q="光伏")) == ["光伏并网申请须知"]


def test_readers_find_the_published_text_while_a_new_draft_is_written(users, library):
    edit(library["gas"], users.agent1, body="燃气开户可在线预约上门服务。")
    submit(library["gas"], users.agent1)
    assert knowledge_search.article_search(user=fresh(users.exec1), q="预约上门") == []
    assert titles(knowledge_search.article_search(user=fresh(users.exec1), q="身份证")) == ["燃气开户流程"]
    mine = knowledge_search.article_search(user=fresh(users.agent1), q="预约上门")
    assert titles(mine) == ["燃气开户流程"] and mine[0].is_draft


def test_the_global_search_has_an_articles_kind(users, library, api):
    response = api(users.agent2).get("/search", {"q": "电费"})
    assert response.status_code == 200
    hits = response.json()["results"]["articles"]
    assert hits[0]["title"] == "关于电费缴纳的说明" and hits[0]["match"] == "title"
    assert hits[0]["url"] == f"/service/kb/{library['payment'].pk}/"
    assert search.search_all(user=fresh(users.exec1), q="光伏")["articles"] == []


def test_the_search_api_ranks_and_validates(users, library, api):
    response = api(users.agent1).get("/articles/search", {"q": "电费"})
    assert response.status_code == 200
    assert [item["in_title"] for item in response.json()["items"]] == [True, False]
    assert api(users.agent1).get("/articles/search", {"q": "电"}).status_code == 422


def test_suggestions_rank_articles_sharing_the_most_words_of_a_ticket(users, library):
    user = fresh(users.agent2)
    hits = knowledge_search.article_suggestions(user=user, text="客户反映无法在网上国网APP缴纳电费")
    assert titles(hits)[0] == "关于电费缴纳的说明"
    assert "燃气开户流程" not in titles(hits)
    assert knowledge_search.article_suggestions(user=user, text="路灯不亮") == []
    assert knowledge_search.article_suggestions(user=user, text="") == []


def test_suggestions_leave_out_drafts_of_others(users, library):
    draft(users.am1, "电费缴纳新渠道（草稿）", "电费可通过银行代扣缴纳。")
    assert "电费缴纳新渠道（草稿）" not in titles(
        knowledge_search.article_suggestions(user=fresh(users.agent2), text="电费缴纳", limit=10)
    )
    assert "电费缴纳新渠道（草稿）" in titles(
        knowledge_search.article_suggestions(user=fresh(users.am1), text="电费缴纳", limit=10)
    )


def test_suggest_fragment_follows_the_ticket_form(users, library, client):
    client.force_login(users.agent1)
    response = client.get("/service/kb/suggest/", {"subject": "电费缴纳失败", "description": "APP提示错误"})
    assert response.status_code == 200
    assert "关于电费缴纳的说明" in response.content.decode()
    form = client.get("/service/new/").content.decode()
    assert 'hx-get="/service/kb/suggest/"' in form and "#id_subject" in form


def test_search_and_suggestions_use_a_fixed_number_of_queries(users, library, django_assert_max_num_queries):
    user = fresh(users.agent1)
    knowledge_search.article_search(user=user, q="电费")  # permissions and PostgreSQL statistics, read once
    # Title pass and text pass; on SQLite each may read the FTS candidates a second time (textsearch.substring_matches).
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 4):
        knowledge_search.article_search(user=user, q="电费 营业厅")
    # PostgreSQL: savepoint, planner settings, the ids from the GIN index, reset, release, the scoped query.
    with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 1):
        hits = knowledge_search.article_suggestions(user=user, text="客户反映无法在网上国网APP缴纳电费，营业厅也很远")
    assert titles(hits)[0] == "关于电费缴纳的说明"


@pytest.mark.parametrize("q", ["电费\x00缴纳", "\x00", "a\x00b"])
def test_a_nul_in_the_query_is_not_an_outage(users, library, api, q):
    response = api(users.agent1).get("/articles/search", {"q": q})
    assert response.status_code in (200, 422), response.content
