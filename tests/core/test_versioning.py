"""core.versioning: an edit applies only to the version the client read, bumps it, and is audited once."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditLog
from guanxi.core.versioning import check_version, save_if_version, save_versioned, update_versioned
from guanxi.customers.models import Customer
from guanxi.service.models import Holiday
from tests.conftest import build_org, build_users, credit_code, make_customer

DAY = datetime.date(2031, 10, 1)


def _holiday(**data) -> Holiday:
    return Holiday.objects.create(date=DAY, kind="off", name=data.get("name", "国庆"))


def _rename(name: str):
    def apply(holiday: Holiday) -> None:
        holiday.name = name
        holiday.full_clean()

    return apply


def _entries(holiday: Holiday):
    return list(AuditLog.objects.filter(object_type="service.holiday", object_id=str(holiday.pk)).values("changes"))


def test_it_applies_bumps_the_version_and_audits_the_change(db, users):
    holiday = _holiday()

    updated = update_versioned(
        Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=_rename("国庆节"), fields=["name"]
    )

    assert updated.version == 2
    stored = Holiday.objects.get(pk=holiday.pk)
    assert (stored.name, stored.version) == ("国庆节", 2)
    assert _entries(holiday) == [{"changes": {"name": ["国庆", "国庆节"]}}]
    entry = AuditLog.objects.get(object_type="service.holiday")
    assert (entry.action, entry.actor) == ("update", users.admin)


def test_it_refuses_a_stale_version_naming_the_current_one(db, users):
    holiday = _holiday()
    update_versioned(Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=_rename("一"))

    with pytest.raises(StaleVersion) as raised:
        update_versioned(Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=_rename("二"))

    assert raised.value.current_version == 2
    assert Holiday.objects.get(pk=holiday.pk).name == "一"
    assert len(_entries(holiday)) == 1


def test_it_answers_404_for_a_row_outside_the_queryset(db, users):
    holiday = _holiday()
    with pytest.raises(Http404):
        update_versioned(
            Holiday.objects.exclude(pk=holiday.pk), holiday.pk, actor=users.admin, version=1, apply=_rename("x")
        )
    with pytest.raises(Http404):
        update_versioned(Holiday.objects.all(), 10**9, actor=users.admin, version=1, apply=_rename("x"))


def test_an_edit_that_changes_nothing_keeps_the_version_and_writes_no_audit(db, users):
    holiday = _holiday()
    with CaptureQueriesContext(connection) as queries:
        same = update_versioned(Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=_rename("国庆"))
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert same.version == 1 and Holiday.objects.get(pk=holiday.pk).version == 1
    assert _entries(holiday) == []


def test_invalid_input_leaves_nothing_written(db, users):
    holiday = _holiday()
    with pytest.raises(ValidationError) as raised:
        update_versioned(Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=_rename("长" * 101))
    assert "name" in raised.value.message_dict
    stored = Holiday.objects.get(pk=holiday.pk)
    assert (stored.name, stored.version) == ("国庆", 1)
    assert _entries(holiday) == []


def test_audit_fields_limit_what_is_compared_and_recorded(db, users):
    holiday = _holiday()

    def apply(h: Holiday) -> None:
        h.name, h.kind = "改名", "workday"

    update_versioned(
        Holiday.objects.all(),
        holiday.pk,
        actor=users.admin,
        version=1,
        apply=apply,
        fields=["name"],
        audit_fields=["name"],
    )

    stored = Holiday.objects.get(pk=holiday.pk)
    assert (stored.name, stored.kind, stored.version) == ("改名", "off", 2)  # only `fields` are saved
    assert _entries(holiday) == [{"changes": {"name": ["国庆", "改名"]}}]


def test_by_default_the_changed_fields_are_saved(db, users):
    holiday = _holiday()

    def apply(h: Holiday) -> None:
        h.kind = "workday"

    update_versioned(Holiday.objects.all(), holiday.pk, actor=users.admin, version=1, apply=apply)
    stored = Holiday.objects.get(pk=holiday.pk)
    assert (stored.kind, stored.version) == ("workday", 2)


def test_save_versioned_also_saves_updated_at_when_the_model_has_one(db, users):
    customer = make_customer(users.am1)
    Customer.objects.filter(pk=customer.pk).update(updated_at=customer.updated_at - datetime.timedelta(days=1))
    customer = Customer.objects.get(pk=customer.pk)
    before = customer.updated_at

    customer.address = "新地址"
    save_versioned(customer, ["address"])

    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.address, stored.version) == ("新地址", 2)
    assert stored.updated_at > before


def test_check_version_accepts_none_as_no_check(db):
    holiday = _holiday()
    check_version(holiday, None)
    check_version(holiday, 1)
    with pytest.raises(StaleVersion):
        check_version(holiday, 2)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_edits_of_one_version_let_exactly_one_win():
    """The second edit waits on the row lock, then sees the version the first committed and is refused."""
    build_org()
    admin = build_users()["admin"]
    holiday = _holiday()

    def slow_rename(name):
        def apply(h: Holiday) -> None:
            h.name = name
            time.sleep(0.3)  # hold the lock while the other edit starts

        return apply

    def edit(name):
        return update_versioned(Holiday.objects.all(), holiday.pk, actor=admin, version=1, apply=slow_rename(name))

    outcomes = _side_by_side(edit, "甲", "乙")

    winners = [o for o in outcomes if isinstance(o, Holiday)]
    losers = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].current_version == 2
    stored = Holiday.objects.get(pk=holiday.pk)
    assert (stored.name, stored.version) == (winners[0].name, 2)
    assert AuditLog.objects.filter(object_type="service.holiday", action="update").count() == 1


# save_if_version: the conditional UPDATE … WHERE version = N of the paths that read without a row lock.


def test_save_if_version_writes_the_fields_and_moves_the_version_on(db, users):
    customer = make_customer(users.am1)
    Customer.objects.filter(pk=customer.pk).update(updated_at=customer.updated_at - datetime.timedelta(days=1))
    customer = Customer.objects.get(pk=customer.pk)
    before = customer.updated_at
    customer.address, customer.area = "新地址", "不保存"

    save_if_version(customer, 1, ["address"])

    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.address, stored.version) == ("新地址", 2)
    assert stored.area != "不保存"  # only `fields` are written
    assert stored.updated_at > before
    assert (customer.version, customer.updated_at) == (2, stored.updated_at)


def test_save_if_version_refuses_a_stale_version_and_writes_nothing(db, users):
    customer = make_customer(users.am1)
    Customer.objects.filter(pk=customer.pk).update(version=3)  # two edits landed since the client read version 1
    stored_before = Customer.objects.values("address", "updated_at").get(pk=customer.pk)
    customer.address = "新地址"

    with pytest.raises(StaleVersion) as raised:
        save_if_version(customer, 1, ["address"])

    assert raised.value.current_version == 3
    assert Customer.objects.values("address", "updated_at").get(pk=customer.pk) == stored_before
    assert Customer.objects.get(pk=customer.pk).version == 3
    assert customer.version == 1


def test_save_if_version_serves_a_model_without_updated_at(db):
    holiday = _holiday()
    holiday.name = "国庆节"

    save_if_version(holiday, 1, ["name"])

    assert Holiday.objects.filter(pk=holiday.pk).values_list("name", "version").get() == ("国庆节", 2)
    assert holiday.version == 2


def test_save_if_version_names_a_value_taken_meanwhile_as_the_api_does(db, users):
    taken = make_customer(users.am1, credit_code=credit_code())
    customer = make_customer(users.am1, credit_code=credit_code())
    customer.credit_code = taken.credit_code

    with pytest.raises(ValidationError) as raised, transaction.atomic():
        save_if_version(customer, 1, ["address", "credit_code"], api_names={"credit_code": "uscc"})

    assert list(raised.value.message_dict) == ["uscc"]
    assert Customer.objects.get(pk=customer.pk).version == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_concurrent_saves_of_one_version_exactly_one_lands():
    """No lock is taken before the UPDATE: the second UPDATE waits for the first's row lock, then finds the row at
    version 2 and matches nothing."""
    holiday = _holiday()

    def save(name):
        copy = Holiday.objects.get(pk=holiday.pk)
        with transaction.atomic():
            copy.name = name
            save_if_version(copy, 1, ["name"])  # both clients read version 1
            time.sleep(0.3)  # hold the row while the other UPDATE arrives
        return copy

    outcomes = _side_by_side(save, "甲", "乙")

    winners = [o for o in outcomes if isinstance(o, Holiday)]
    losers = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].current_version == 2
    assert Holiday.objects.filter(pk=holiday.pk).values_list("name", "version").get() == (winners[0].name, 2)


def _side_by_side(work, *args) -> list:
    """work(arg) in one thread per arg, all released at once; each result or exception, in the order they ended."""
    barrier, outcomes = threading.Barrier(len(args)), []

    def run(arg):
        try:
            barrier.wait(timeout=30)
            outcomes.append(work(arg))
        except Exception as exc:  # noqa: BLE001 - the test inspects each outcome
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
