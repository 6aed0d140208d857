"""The kanban's stored stage totals (sales.board_totals, kept by the triggers of sales migration 0008) always equal the
live aggregate of the deals: after every operation of a random sequence through the services (create, edit amount or
owner, move, win, lose, reopen, lead conversion, customer transfer, merge, the customer's sensitive flag), on SQLite
and PostgreSQL; the board of every role shows them; rebuild() restores them from the deals; and on PostgreSQL
concurrent drags and flag changes lose no increment and do not deadlock."""

import random
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from guanxi.core.errors import StaleVersion
from guanxi.customers import services as customer_services
from guanxi.customers.merge import customer_merge
from guanxi.customers.models import Customer
from guanxi.sales import board, board_totals, deals_selectors, deals_services, leads_services
from guanxi.sales.models import BoardTotal, Opportunity, Pipeline, Stage
from tests.conftest import fresh, make_customer, race
from tests.sales.pipeline_factories import make_deal, make_lead

BOARD_USERS = ("admin", "exec1", "bm1", "bm2", "lead1", "lead2", "lead3", "am1", "am2", "am3", "agent1", "analyst1")


def live_board(user, pipeline, *, team=None, owner=None, stage=None) -> dict[int, tuple]:
    """What the board showed before the totals were stored: a GROUP BY over the visible deals."""
    deals = deals_selectors.DealFilters(team=team, owner=owner, stage=stage).apply(
        deals_selectors.opportunity_queryset(user=user).filter(pipeline=pipeline, status=Opportunity.Status.OPEN)
    )
    rows = deals.order_by().values("stage_id").annotate(n=Count("*"), a=Sum("amount"), w=Sum("weighted_amount"))
    return {r["stage_id"]: (r["n"], deals_selectors.money(r["a"]), deals_selectors.money(r["w"])) for r in rows}


def shown_board(user, pipeline, **filters) -> dict[int, tuple]:
    columns = board.kanban_board(user=user, pipeline=pipeline, **filters)
    return {c["stage"].pk: (c["count"], c["amount"], c["weighted"]) for c in columns if c["count"]}


def assert_boards_right(users, org) -> None:
    assert board_totals.differences() == {}
    for pipeline in Pipeline.objects.all():
        for name in BOARD_USERS:
            user = fresh(getattr(users, name))
            assert shown_board(user, pipeline) == live_board(user, pipeline), (name, pipeline.code)
        admin = fresh(users.admin)
        for filters in ({"team": org.B01.pk}, {"team": org.B01_T1.pk}, {"owner": users.am2.pk}):
            assert shown_board(admin, pipeline, **filters) == live_board(admin, pipeline, **filters), filters
        first_open = pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("position").first()
        lead1 = fresh(users.lead1)
        assert shown_board(lead1, pipeline, stage=first_open.pk) == live_board(lead1, pipeline, stage=first_open.pk)


class Sequence:
    """Random service operations on a few customers and deals, acting as admin (every scope, sensitive allowed)."""

    def __init__(self, users, seed: int):
        self.rng = random.Random(seed)
        self.users = users
        self.owners = [users.am1, users.am2, users.am3, users.lead1, users.bm2]
        self.customers = [
            make_customer(users.admin, name=f"看板客户{seed}-{i}", owner_id=o.pk)
            for i, o in enumerate(self.owners[:3] * 2)
        ]
        self.customers.append(
            make_customer(users.admin, name=f"看板敏感客户{seed}", owner_id=users.am1.pk, sensitive=True)
        )
        self.pipelines = list(Pipeline.objects.all())

    @property
    def admin(self):
        return fresh(self.users.admin)

    def _customer(self) -> Customer:
        return Customer.objects.get(pk=self.rng.choice(self.customers).pk)

    def _deal(self) -> Opportunity | None:
        ids = list(Opportunity.objects.order_by("pk").values_list("pk", flat=True))
        return Opportunity.objects.get(pk=self.rng.choice(ids)) if ids else None

    def create(self):
        pipeline = self.rng.choice(self.pipelines)
        stage = self.rng.choice(list(pipeline.stages.filter(outcome=Stage.Outcome.OPEN)))
        make_deal(
            self.users.admin,
            self._customer(),
            pipeline_id=pipeline.pk,
            stage_id=stage.pk,
            amount=Decimal(self.rng.randrange(0, 10**8)) / 100,
            owner_id=self.rng.choice(self.owners).pk,
        )

    def edit(self):
        deal = self._deal()
        data = {"amount": Decimal(self.rng.randrange(0, 10**8)) / 100}
        if self.rng.random() < 0.5:
            data["owner_id"] = self.rng.choice(self.owners).pk
        deals_services.opportunity_update(actor=self.admin, opportunity_id=deal.pk, version=deal.version, data=data)

    def move(self):
        deal = self._deal()
        stage = self.rng.choice(list(Stage.objects.filter(pipeline_id=deal.pipeline_id)))
        deals_services.opportunity_move(
            actor=self.admin, opportunity_id=deal.pk, version=deal.version, stage_id=stage.pk, reason="价格"
        )

    def close(self):
        deal = self._deal()
        if deal.status == Opportunity.Status.OPEN:
            close = self.rng.choice([deals_services.opportunity_won, deals_services.opportunity_lost])
            close(actor=self.admin, opportunity_id=deal.pk, version=deal.version, reason="竞争")

    def flip_sensitive(self):
        customer = self._customer()
        customer_services.customer_update(
            actor=self.admin,
            customer_id=customer.pk,
            version=customer.version,
            data={"sensitive": not customer.sensitive},
        )

    def transfer(self):
        customer = self._customer()
        to = self.rng.choice([u for u in self.owners[:3] if u.pk != customer.owner_id])
        customer_services.customer_transfer(
            actor=self.admin, from_user_id=customer.owner_id, to_user_id=to.pk, customer_ids=[customer.pk]
        )

    def merge(self):
        if len(self.customers) < 4:
            return
        survivor, merged = self.rng.sample(self.customers, 2)
        survivor, merged = Customer.objects.get(pk=survivor.pk), Customer.objects.get(pk=merged.pk)
        customer_merge(
            actor=self.admin,
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            survivor_version=survivor.version,
            merged_version=merged.version,
            fields={"sensitive": self.rng.choice(["survivor", "merged"])},
        )
        self.customers.remove(merged)  # a tombstone takes no new deals; its own stay where they are

    def convert(self):
        lead = make_lead(self.users.am1)
        pipeline = self.rng.choice(self.pipelines)
        leads_services.lead_convert(
            actor=fresh(self.users.am1),
            lead_id=lead.pk,
            version=lead.version,
            new_customer=True,
            opportunity={
                "name": "转化商机",
                "amount": Decimal("12345.67"),
                "expected_close": date(2027, 6, 1),
                "pipeline_id": pipeline.pk,
            },
        )

    def operations(self, count: int) -> list:
        """Every kind once (in random order), then `count` more drawn by weight."""
        kinds = [
            self.create,
            self.edit,
            self.move,
            self.close,
            self.flip_sensitive,
            self.transfer,
            self.merge,
            self.convert,
        ]
        first = [self.create, *self.rng.sample(kinds, len(kinds))]
        return first + self.rng.choices(kinds, weights=[6, 4, 6, 2, 2, 2, 1, 1], k=count)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_every_random_service_operation_the_stored_totals_equal_the_deals(users, org, seed):
    sequence = Sequence(users, seed)
    done = []
    for operation in sequence.operations(40):
        operation()
        done.append(operation.__name__)
        assert board_totals.differences() == {}, done
    assert Opportunity.objects.filter(status=Opportunity.Status.OPEN).exists()
    assert_boards_right(users, org)


@pytest.mark.django_db
def test_a_sensitive_flag_change_moves_the_customers_deals_between_the_parts(users, customers):
    pipeline = Pipeline.objects.get(code="new-connection")
    deal = make_deal(users.am1, customers.c1, amount=Decimal("800.00"))
    am1 = fresh(users.am1)
    assert shown_board(am1, pipeline)[deal.stage_id][0] == 1
    customer_services.customer_update(
        actor=fresh(users.bm1), customer_id=customers.c1.pk, version=customers.c1.version, data={"sensitive": True}
    )
    assert deal.stage_id not in shown_board(fresh(users.am1), pipeline)  # am1 may not see sensitive customers
    assert shown_board(fresh(users.bm1), pipeline)[deal.stage_id] == (1, Decimal("800.00"), deal.weighted_amount)
    assert board_totals.differences() == {}


@pytest.mark.django_db
def test_rebuild_restores_totals_that_went_wrong_and_the_command_checks_them(users, customers):
    for customer in (customers.c1, customers.c2, customers.sensitive):
        make_deal(users.bm1 if customer.sensitive else users.admin, customer)
    BoardTotal.objects.update(deals=99)
    BoardTotal.objects.create(org_unit_id=0, pipeline_id=1, stage_id=1, owner_id=1, sensitive=False, deals=3)
    assert board_totals.differences()
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("rebuild_board_totals", "--check", stdout=out)
    assert "differ" in out.getvalue()

    call_command("rebuild_board_totals", stdout=StringIO())
    assert board_totals.differences() == {}
    assert BoardTotal.objects.filter(sensitive=True).get().deals == 1
    call_command("rebuild_board_totals", "--check", stdout=StringIO())  # right: no exit


# --- PostgreSQL: concurrency -----------------------------------------------------------------------------------------


def _ensure_pipelines() -> None:
    """Transactional tests: an earlier transactional test in a full run may have flushed the seeded pipelines and
    stages (migration data); put them back (the seed is idempotent), as the service tests' ensure_reference_data."""
    from importlib import import_module

    from django.apps import apps

    import_module("guanxi.sales.migrations.0002_seed_pipelines").seed(apps, None)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_drags_creations_and_flag_changes_lose_no_increment(users):
    """Four threads drag their own deals back and forth between two stages (opposite directions: the two totals rows
    locked in opposite order if the trigger did not sort them), one creates deals, one flips the customers' sensitive
    flag; every deal is on the same few totals rows. Afterwards the stored totals equal the deals, and no racer got a
    deadlock or any other error."""
    _ensure_pipelines()
    customers = [make_customer(users.admin, name=f"并发客户{i}", owner_id=users.am1.pk) for i in range(2)]
    first, second = Stage.objects.filter(pipeline__code="new-connection", outcome=Stage.Outcome.OPEN).order_by(
        "position"
    )[:2]
    deals = [
        make_deal(users.admin, customers[i % 2], owner_id=users.am1.pk, stage_id=(first, second)[i % 2].pk)
        for i in range(8)
    ]

    def drag(mine):
        def work():
            for _ in range(6):
                for deal in mine:
                    current = Opportunity.objects.get(pk=deal.pk)
                    target = second if current.stage_id == first.pk else first
                    deals_services.opportunity_move(
                        actor=fresh(users.admin), opportunity_id=deal.pk, version=current.version, stage_id=target.pk
                    )
            return len(mine)

        return work

    def create():
        for i in range(10):
            make_deal(users.admin, customers[i % 2], owner_id=users.am1.pk, amount=Decimal("10.01"))

    def flip():
        for i in range(10):
            customer = Customer.objects.get(pk=customers[i % 2].pk)
            customer_services.customer_update(
                actor=fresh(users.admin),
                customer_id=customer.pk,
                version=customer.version,
                data={"sensitive": not customer.sensitive},
            )

    works = [drag(deals[i::4]) for i in range(4)] + [create, flip]
    results = race(*works)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Opportunity.objects.count() == 18
    assert board_totals.differences() == {}
    assert sum(t.deals for t in BoardTotal.objects.all()) == 18


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_drag_racing_a_transfer_or_a_merge_of_its_customer_does_not_deadlock(users):
    """The totals' trigger reads the deal's customer FOR SHARE; the deal services take that lock before the deal
    (customers first, as transfer and merge do), so neither racer is picked as a deadlock victim. A drag that loses
    to the transfer may be stale (409): that is the versioning, not a lock failure."""
    _ensure_pipelines()
    first, second = Stage.objects.filter(pipeline__code="new-connection", outcome=Stage.Outcome.OPEN).order_by(
        "position"
    )[:2]
    failures = []
    for i in range(8):
        customer = make_customer(users.admin, name=f"移交客户{i}", owner_id=users.am1.pk)
        other = make_customer(users.admin, name=f"合并客户{i}", owner_id=users.am1.pk, sensitive=True)
        deal = make_deal(users.admin, customer, owner_id=users.am1.pk, stage_id=first.pk)

        def drag(deal=deal):
            deals_services.opportunity_move(
                actor=fresh(users.admin), opportunity_id=deal.pk, version=deal.version, stage_id=second.pk
            )

        def transfer(customer=customer):
            customer_services.customer_transfer(
                actor=fresh(users.admin),
                from_user_id=users.am1.pk,
                to_user_id=users.am2.pk,
                customer_ids=[customer.pk],
            )

        def merge(customer=customer, other=other):
            customer_merge(
                actor=fresh(users.admin),
                survivor_id=customer.pk,
                merged_id=other.pk,
                survivor_version=1,
                merged_version=1,
                fields={"sensitive": "merged"},
            )

        racers = [drag, transfer if i % 2 else merge]
        failures += [r for r in race(*(racers if i % 4 < 2 else racers[::-1])) if isinstance(r, Exception)]
    assert [f for f in failures if not isinstance(f, StaleVersion)] == []
    assert board_totals.differences() == {}
