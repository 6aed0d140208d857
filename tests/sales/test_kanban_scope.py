"""The kanban board (sales.board, written as SQL) shows every role exactly what the ORM's rules give it: per column the
newest open deals of opportunity_queryset(user) — own, team, branch or all deals, none on a sensitive customer without
the permission — with the board's filters (team, owner, stage and offset), and the totals of those deals; and the
stages as they are now, on the very next request after a rename, a new stage or a new order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from guanxi.sales import board, deals_selectors
from guanxi.sales.models import Opportunity, Stage
from tests.conftest import USERS, fresh
from tests.sales.pipeline_factories import make_deal, pipeline, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(users, customers):
    """Deals of every account manager, the team lead and a branch manager, in several stages, one on a sensitive
    customer; their updated_at spread out (and two equal, so the id breaks the tie)."""
    owners = [users.am1, users.am2, users.am3, users.lead1, users.bm2]
    plan = [
        (customers.c1, users.am1),
        (customers.c2, users.am2),
        (customers.c3, users.am3),
        (customers.c1, users.lead1),
        (customers.c3, users.bm2),
    ]
    created = []
    for i in range(30):
        customer, owner = plan[i % len(plan)]
        created.append(make_deal(users.admin, customer, owner_id=owner.pk, amount=Decimal(1000 + i)))
    created.append(make_deal(users.admin, customers.sensitive, owner_id=users.am1.pk, amount=Decimal("9999")))
    stages = ["enquiry", "enquiry", "survey", "proposal"]
    now = timezone.now()
    for i, deal in enumerate(created):
        moved = stage(stages[i % len(stages)])
        tie = i in (4, 8)  # same time, same stage: the id decides
        Opportunity.objects.filter(pk=deal.pk).update(
            stage=moved, updated_at=now - timedelta(minutes=0 if tie else (i * 7) % 31)
        )
    assert owners  # every owner has deals (plan)
    return created


def expected_board(user, *, team=None, owner=None, stage_id=None, offset=0, per_column=20) -> dict[int, tuple]:
    """{stage id: (count, amount, [card ids])} by the ORM: opportunity_queryset and DealFilters, as before."""
    visible = deals_selectors.DealFilters(team=team, owner=owner, stage=stage_id).apply(
        deals_selectors.opportunity_queryset(user=user).filter(pipeline=pipeline(), status=Opportunity.Status.OPEN)
    )
    result = {}
    for s in pipeline().stages.filter(outcome=Stage.Outcome.OPEN):
        if stage_id not in (None, s.pk):
            continue
        column = visible.filter(stage=s)
        sums = column.aggregate(n=Count("*"), a=Sum("amount"))
        ids = list(column.order_by("-updated_at", "-id").values_list("id", flat=True)[offset : offset + per_column])
        result[s.pk] = (sums["n"], deals_selectors.money(sums["a"]), ids)
    return result


def shown_board(user, **filters) -> dict[int, tuple]:
    stage_id = filters.pop("stage_id", None)
    columns = board.kanban_board(user=user, pipeline=pipeline(), stage=stage_id, **filters)
    return {c["stage"].pk: (c["count"], c["amount"], [card["id"] for card in c["cards"]]) for c in columns}


@pytest.mark.parametrize("who", sorted(USERS))
def test_every_role_sees_the_newest_cards_and_totals_of_its_own_scope(users, deals, who):
    user = fresh(getattr(users, who))
    assert shown_board(user) == expected_board(user)
    assert shown_board(user, per_column=2, offset=1) == expected_board(user, per_column=2, offset=1)


def test_the_boards_differ_by_scope_and_leave_the_sensitive_deal_to_those_allowed(users, deals):
    def card_ids(name) -> set[int]:
        return {i for _n, _a, ids in shown_board(fresh(getattr(users, name)), per_column=100).values() for i in ids}

    sensitive = deals[-1].pk
    assert card_ids("am1") < card_ids("lead1") < card_ids("bm1") <= card_ids("exec1")
    assert not card_ids("am2") & card_ids("am1")
    assert sensitive not in card_ids("am1") | card_ids("lead1")
    assert sensitive in card_ids("bm1") and sensitive in card_ids("exec1")


@pytest.mark.parametrize("who", ["admin", "bm1", "lead1", "am1"])
def test_the_filters_of_the_board_are_those_of_the_deal_list(users, org, deals, who):
    user = fresh(getattr(users, who))
    enquiry = stage("enquiry").pk
    for filters in (
        {"team": org.B01_T1.pk},
        {"team": org.B01.pk},
        {"team": org.B02.pk},
        {"owner": users.am1.pk},
        {"owner": users.am2.pk},
        {"stage_id": enquiry, "offset": 3, "per_column": 4},
        {"team": org.B01.pk, "owner": users.lead1.pk, "stage_id": enquiry},
    ):
        assert shown_board(user, **filters) == expected_board(user, **filters), filters


def test_a_stage_renamed_added_or_reordered_shows_on_the_next_request(api, users, deals):
    client = api(users.lead1)
    before = client.get("/kanban", {"pipeline": pipeline().pk}).json()
    assert [c["stage"]["code"] for c in before["columns"]][:3] == ["enquiry", "survey", "proposal"]

    survey = stage("survey")
    survey.name, survey.name_en = "现场勘查（新）", "Site survey (new)"
    survey.save()
    Stage.objects.filter(pk=stage("proposal").pk).update(position=0)  # proposal first
    Stage.objects.create(pipeline=pipeline(), code="visit", name="上门拜访", position=0, probability=5)

    after = client.get("/kanban", {"pipeline": pipeline().pk}).json()
    codes = [c["stage"]["code"] for c in after["columns"]]
    assert codes[:3] == ["enquiry", "proposal", "visit"]  # position 0, by id
    assert next(c for c in after["columns"] if c["stage"]["code"] == "survey")["stage"]["label"] == "现场勘查（新）"
    assert [s["code"] for s in after["pipeline"]["stages"]][:3] == codes[:3]
    english = api(users.lead1, lang="en").get("/kanban", {"pipeline": pipeline().pk}).json()
    assert (
        next(c for c in english["columns"] if c["stage"]["code"] == "survey")["stage"]["label"] == "Site survey (new)"
    )
    page = api(users.lead1).client.get("/sales/kanban/").content.decode()
    assert "现场勘查（新）" in page and "上门拜访" in page
