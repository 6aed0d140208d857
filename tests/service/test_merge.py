"""Merging duplicate tickets: B (same customer) is closed with a link to A and keeps its history and hand-over chain;
A lists what was merged into it. Refused for a pending hand-over, an already merged ticket, another customer, a stale
version; audited."""

import threading

import pytest
from django.db import connection

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.models import AuditLog
from guanxi.service import services
from guanxi.service.merge import ticket_merge
from guanxi.service.models import Ticket, TicketEvent
from tests.conftest import errors_by_field, fresh
from tests.service.factories import ensure_reference_data, make_ticket, move


def _merge(api, user, ticket, duplicate, **extra):
    ticket.refresh_from_db()
    duplicate.refresh_from_db()
    body = {"version": ticket.version, "duplicate_id": duplicate.pk, "duplicate_version": duplicate.version, **extra}
    return api(user).post(f"/tickets/{ticket.pk}/merge", body)


def test_a_duplicate_is_closed_and_linked_keeping_its_history(users, customers, api):
    first = make_ticket(users.agent1, customers.c1, subject="停电报修")
    duplicate = make_ticket(users.agent1, customers.c1, subject="停电报修（重复来电）")
    move(duplicate, users.agent1, "accept")
    duplicate.refresh_from_db()
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=duplicate.pk,
        version=duplicate.version,
        reason="请协助",
        to_user_id=users.bm1.pk,
    )
    services.handover_decline(actor=fresh(users.bm1), ticket_id=duplicate.pk, note="不需要")
    response = _merge(api, users.agent1, first, duplicate)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk
    duplicate.refresh_from_db()
    first.refresh_from_db()
    assert duplicate.merged_into_id == first.pk and duplicate.merged_at is not None
    assert duplicate.status == Ticket.Status.CLOSED and duplicate.closed_at and duplicate.resolved_at
    assert first.number in duplicate.resolution
    assert first.status == Ticket.Status.NEW and first.merged_into_id is None
    # B keeps its events and its hand-over chain; both sides record the merge.
    kinds = list(duplicate.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[0] == TicketEvent.Kind.CREATED and kinds[-1] == TicketEvent.Kind.MERGED
    assert TicketEvent.Kind.HANDOVER_DECLINED in kinds
    assert duplicate.handovers.count() == 1
    assert first.events.filter(kind=TicketEvent.Kind.MERGED_FROM, note=duplicate.number).exists()
    assert AuditLog.objects.filter(object_type="service.ticket", object_id=str(duplicate.pk), action="merge").exists()
    assert AuditLog.objects.filter(object_type="service.ticket", object_id=str(first.pk), action="merge_into").exists()
    links = api(users.agent1).get(f"/tickets/{first.pk}/merges").json()
    assert links["merged_into"] is None and [t["id"] for t in links["merged_from"]] == [duplicate.pk]
    back = api(users.agent1).get(f"/tickets/{duplicate.pk}/merges").json()
    assert back["merged_into"]["number"] == first.number
    assert api(users.agent1).get(f"/tickets/{duplicate.pk}").json()["events"][-1]["kind"] == "merged"


def test_a_duplicate_with_a_pending_hand_over_is_not_merged(users, customers, api):
    first = make_ticket(users.agent1, customers.c1)
    duplicate = make_ticket(users.agent1, customers.c1)
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=duplicate.pk,
        version=duplicate.version,
        reason="转班组长",
        to_user_id=users.bm1.pk,
    )
    response = _merge(api, users.agent1, first, duplicate)
    assert response.status_code == 409
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None and duplicate.status == Ticket.Status.NEW


def test_an_already_merged_ticket_is_not_merged_again(users, customers, api):
    first, second, third = (make_ticket(users.agent1, customers.c1) for _ in range(3))
    assert _merge(api, users.agent1, first, second).status_code == 200
    again = _merge(api, users.agent1, third, second)
    assert again.status_code == 409
    into_merged = _merge(api, users.agent1, second, third)  # second is closed and merged itself
    assert into_merged.status_code == 409
    second.refresh_from_db()
    assert second.merged_into_id == first.pk


def test_only_tickets_of_the_same_customer_are_merged(users, customers, api):
    first = make_ticket(users.agent1, customers.c1)
    other = make_ticket(users.agent1, customers.c2)
    caller = make_ticket(users.agent1)
    for duplicate in (other, caller):
        response = _merge(api, users.agent1, first, duplicate)
        assert response.status_code == 422 and "duplicate_id" in errors_by_field(response)
    itself = _merge(api, users.agent1, first, first)
    assert itself.status_code == 422 and "duplicate_id" in errors_by_field(itself)
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_a_stale_version_of_either_ticket_is_a_conflict(users, customers, api):
    first = make_ticket(users.agent1, customers.c1)
    duplicate = make_ticket(users.agent1, customers.c1)
    stale_a = _merge(api, users.agent1, first, duplicate, version=first.version + 5)
    assert stale_a.status_code == 409
    stale_b = _merge(api, users.agent1, first, duplicate, duplicate_version=0)
    assert stale_b.status_code == 409
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()
    # A successful merge bumps both versions: a form read before it is stale.
    before = Ticket.objects.get(pk=first.pk).version
    assert _merge(api, users.agent1, first, duplicate).status_code == 200
    assert Ticket.objects.get(pk=first.pk).version == before + 1


def test_merging_needs_scope_and_ownership(users, customers, api):
    first = make_ticket(users.agent1, customers.c1)
    duplicate = make_ticket(users.agent1, customers.c1)
    assert _merge(api, users.agent2, first, duplicate).status_code == 404  # another branch
    assert api(users.agent2).get(f"/tickets/{first.pk}/merges").status_code == 404
    assert _merge(api, users.am1, first, duplicate).status_code == 403  # sees the customer's tickets, owns neither
    assert _merge(api, users.bm1, first, duplicate).status_code == 200  # a manager may act for the owner


def test_a_closed_ticket_cannot_take_duplicates(users, customers):
    first = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "resolve", "close")
    duplicate = make_ticket(users.agent1, customers.c1)
    with pytest.raises(Conflict):
        ticket_merge(
            actor=fresh(users.agent1),
            ticket_id=first.pk,
            version=first.version,
            duplicate_id=duplicate.pk,
            duplicate_version=duplicate.version,
        )


def test_the_ticket_page_merges_a_duplicate(users, customers, client):
    first = make_ticket(users.agent1, customers.c1, subject="主工单")
    duplicate = make_ticket(users.agent1, customers.c1, subject="重复工单")
    make_ticket(users.agent1, customers.c2, subject="别的客户")
    client.force_login(users.agent1)
    fragment = client.get(f"/service/tools/{first.pk}/").content.decode()
    assert f'value="{duplicate.pk}:{duplicate.version}"' in fragment and "别的客户" not in fragment
    response = client.post(
        f"/service/tools/{first.pk}/merge/",
        {"version": first.version, "duplicate": f"{duplicate.pk}:{duplicate.version}"},
    )
    assert response.status_code == 302 and response["Location"] == f"/service/{first.pk}/"
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == first.pk
    assert duplicate.number in client.get(f"/service/tools/{first.pk}/").content.decode()
    assert first.number in client.get(f"/service/tools/{duplicate.pk}/").content.decode()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_merges_of_one_duplicate_at_once_leave_it_merged_once(users, customers):
    ensure_reference_data()
    first, second, duplicate = (make_ticket(users.agent1, customers.c1) for _ in range(3))
    barrier = threading.Barrier(2)
    outcomes = []

    def merge_into(target):
        try:
            barrier.wait()
            ticket_merge(
                actor=fresh(users.agent1),
                ticket_id=target.pk,
                version=target.version,
                duplicate_id=duplicate.pk,
                duplicate_version=duplicate.version,
            )
            outcomes.append("ok")
        except (Conflict, StaleVersion):
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=merge_into, args=(t,)) for t in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Ticket.objects.filter(merged_into__isnull=False).count() == 1
