"""Every write of deals (opportunities): validated, scoped, versioned and audited, each in one transaction."""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.permissions import require
from guanxi.core.roles import ACCOUNT_MANAGER, user_roles
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.core.versioning import lock, save_if_version, update_versioned
from guanxi.customers import selectors as customer_selectors
from guanxi.sales import deals_selectors
from guanxi.sales.models import Competitor, Opportunity, Pipeline, Stage, StageChange, TeamMember

DEAL_FIELDS = ("name", "amount", "expected_close", "description", "owner_id")
API_NAMES = {"customer": "customer_id", "pipeline": "pipeline_id", "stage": "stage_id", "owner": "owner_id"}
CENT = Decimal("0.01")


def weighted(amount: Decimal, probability: int) -> Decimal:
    """amount × probability %, to the cent (the forecast sums this column)."""
    return (Decimal(amount) * probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def opportunity_create(*, actor, data: dict) -> Opportunity:
    """A new deal on a customer the actor may see, in the pipeline's first open stage unless a stage is given."""
    require(actor, "sales.add_opportunity")
    data = dict(data)
    errors = {}
    for field in ("customer_id", "name", "expected_close"):
        if data.get(field) in (None, ""):
            errors[field] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        customer = customer_selectors.customer_queryset(user=actor).filter(pk=data["customer_id"]).first()
        if customer is None:
            raise ValidationError({"customer_id": _("No such customer.")})
        pipeline, stage = _pipeline_and_stage(data.get("pipeline_id"), data.get("stage_id"))
        owner_id = data.get("owner_id")
        if owner_id is None:
            owner_id = actor.pk if ACCOUNT_MANAGER in user_roles(actor) else (customer.owner_id or actor.pk)
        elif not users_in_scope(user=actor).filter(pk=owner_id).exists():
            raise ValidationError({"owner_id": _("No such user in your scope.")})
        now = timezone.now()
        deal = Opportunity(
            customer=customer,
            name=(data.get("name") or "").strip(),
            amount=data.get("amount") if data.get("amount") is not None else Decimal("0"),
            expected_close=data["expected_close"],
            description=data.get("description") or "",
            pipeline=pipeline,
            stage=stage,
            probability=stage.probability,
            owner_id=owner_id,
            org_unit=unit_of(owner_id),
            created_by=actor,
            stage_entered_at=now,
        )
        _full_clean(deal)
        deal.weighted_amount = weighted(deal.amount, deal.probability)
        deal.save()
        StageChange.objects.create(opportunity=deal, stage=stage, entered_at=now, moved_by=actor)
        audit.record(actor=actor, action="create", instance=deal, changes=_created(deal))
    return deal


def opportunity_update(*, actor, opportunity_id: int, version: int, data: dict) -> Opportunity:
    """Change name, amount, expected close, description or owner if the deal is still at `version`."""
    require(actor, "sales.change_opportunity")

    def apply(deal: Opportunity) -> None:
        for key in (k for k in data if k in DEAL_FIELDS):
            value = data[key]
            if key == "description" and value is None:
                value = ""
            setattr(deal, key, value)
        if "owner_id" in data:
            if deal.owner_id is None:
                raise ValidationError({"owner_id": _("This field cannot be null.")})
            if not users_in_scope(user=actor).filter(pk=deal.owner_id).exists():
                raise ValidationError({"owner_id": _("No such user in your scope.")})
            deal.org_unit = unit_of(deal.owner_id)
        if isinstance(deal.name, str):
            deal.name = deal.name.strip()
        _full_clean(deal)
        deal.weighted_amount = weighted(deal.amount, deal.probability)

    with transaction.atomic():
        _hold_customer(opportunity_id)
        return update_versioned(
            deals_selectors.opportunity_queryset(user=actor), opportunity_id, actor=actor, version=version, apply=apply
        )


def opportunity_move(*, actor, opportunity_id: int, version: int, stage_id: int, reason: str = "") -> Opportunity:
    """Move a deal to another stage of its pipeline (the kanban drag). A won or lost stage closes the deal (a lost one
    needs a reason); an open stage reopens a closed deal. The stage history gets a row, the old one its end."""
    require(actor, "sales.change_opportunity")
    with transaction.atomic():
        _hold_customer(opportunity_id)
        deal = _locked(actor, opportunity_id, version)
        stage = Stage.objects.filter(pk=stage_id, pipeline_id=deal.pipeline_id).first()
        if stage is None:
            raise ValidationError({"stage_id": _("No such stage in this deal's pipeline.")})
        return _enter_stage(actor, deal, stage, reason)


def opportunity_won(*, actor, opportunity_id: int, version: int, reason: str = "") -> Opportunity:
    """Close the deal as won (赢单): the pipeline's won stage, probability 100 %."""
    return _close(actor, opportunity_id, version, Stage.Outcome.WON, reason)


def opportunity_lost(*, actor, opportunity_id: int, version: int, reason: str) -> Opportunity:
    """Close the deal as lost (输单) with the reason: the pipeline's lost stage, probability 0 %."""
    return _close(actor, opportunity_id, version, Stage.Outcome.LOST, reason)


def competitor_add(*, actor, opportunity_id: int, data: dict) -> Competitor:
    """A competitor on the deal (竞争对手): name, their offer, strengths, weaknesses."""
    require(actor, "sales.change_opportunity")
    with transaction.atomic():
        deal = deals_selectors.opportunity_get(user=actor, opportunity_id=opportunity_id)
        fields = ("name", "offer_amount", "offer", "strengths", "weaknesses")
        competitor = Competitor(
            opportunity=deal,
            **{k: (data[k] if data[k] is not None or k == "offer_amount" else "") for k in fields if k in data},
        )
        if isinstance(competitor.name, str):
            competitor.name = competitor.name.strip()
        _full_clean(competitor, exclude=["opportunity"])
        competitor.save()
        audit.record(
            actor=actor, action="competitor_add", instance=deal, changes={"competitor": [None, competitor.name]}
        )
    return competitor


def competitor_remove(*, actor, opportunity_id: int, competitor_id: int) -> None:
    require(actor, "sales.change_opportunity")
    with transaction.atomic():
        deal = deals_selectors.opportunity_get(user=actor, opportunity_id=opportunity_id)
        competitor = Competitor.objects.filter(pk=competitor_id, opportunity=deal).first()
        if competitor is None:
            raise ValidationError({"competitor_id": _("No such competitor on this deal.")})
        audit.record(
            actor=actor, action="competitor_remove", instance=deal, changes={"competitor": [competitor.name, None]}
        )
        competitor.delete()


def team_member_add(*, actor, opportunity_id: int, user_id: int, role: str) -> TeamMember:
    """Put a colleague on the deal's project team (项目团队) with a role; a second call changes the role."""
    require(actor, "sales.change_opportunity")
    if role not in TeamMember.Role.values:
        raise ValidationError(
            {"role": _("Choose one of: %(choices)s.") % {"choices": ", ".join(TeamMember.Role.values)}}
        )
    with transaction.atomic():
        deal = deals_selectors.opportunity_get(user=actor, opportunity_id=opportunity_id)
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise ValidationError({"user_id": _("No such user.")})
        member, created = TeamMember.objects.update_or_create(opportunity=deal, user=user, defaults={"role": role})
        audit.record(
            actor=actor,
            action="team_add" if created else "team_role",
            instance=deal,
            changes={"team": [None, f"{user.username}:{role}"]},
        )
    return member


def team_member_remove(*, actor, opportunity_id: int, member_id: int) -> None:
    require(actor, "sales.change_opportunity")
    with transaction.atomic():
        deal = deals_selectors.opportunity_get(user=actor, opportunity_id=opportunity_id)
        member = TeamMember.objects.select_related("user").filter(pk=member_id, opportunity=deal).first()
        if member is None:
            raise ValidationError({"member_id": _("No such member on this deal.")})
        audit.record(actor=actor, action="team_remove", instance=deal, changes={"team": [member.user.username, None]})
        member.delete()


# --- helpers -------------------------------------------------------------------------------------------------------


def _pipeline_and_stage(pipeline_id: int | None, stage_id: int | None) -> tuple[Pipeline, Stage]:
    if pipeline_id is None:
        pipeline = deals_selectors.default_pipeline()
        if pipeline is None:
            raise ValidationError({"pipeline_id": _("No pipeline is set up.")})
    else:
        pipeline = Pipeline.objects.filter(pk=pipeline_id, active=True).first()
        if pipeline is None:
            raise ValidationError({"pipeline_id": _("No such pipeline.")})
    open_stages = Stage.objects.filter(pipeline=pipeline, outcome=Stage.Outcome.OPEN).order_by("position", "id")
    stage = open_stages.filter(pk=stage_id).first() if stage_id is not None else open_stages.first()
    if stage is None:
        raise ValidationError({"stage_id": _("No such open stage in this pipeline.")})
    return pipeline, stage


def unit_of(user_id: int):
    """The team of a deal's or lead's owner: the record's owning unit."""
    user = get_user_model().objects.select_related("profile__org_unit").filter(pk=user_id).first()
    return org_unit_of(user) if user else None


def _locked(actor, opportunity_id: int, version: int) -> Opportunity:
    """The deal, visible to the actor and still at `version` (else 404 / StaleVersion), locked until commit."""
    return lock(deals_selectors.opportunity_queryset(user=actor), opportunity_id, version)


def _hold_customer(opportunity_id: int) -> None:
    """The deal's customer row, share-locked before the deal (PostgreSQL). A change of the deal's stage, status, amount
    or owner makes the board totals' trigger (sales migration 0008) read that customer FOR SHARE after the deal's
    UPDATE; the lock order of every write is the customers first, then their deals (activities.last_visits
    .lock_customers, customer_transfer, merge), so taking it only then could deadlock a drag with a transfer or merge
    of the customer. Share, not update: drags of two deals of one customer do not wait for each other."""
    if connection.vendor != "postgresql" or not 0 < opportunity_id < 2**63:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM customers_customer WHERE id = (SELECT customer_id FROM sales_opportunity WHERE id = %s)"
            " FOR SHARE",
            [opportunity_id],
        )


def _close(actor, opportunity_id: int, version: int, outcome: str, reason: str) -> Opportunity:
    require(actor, "sales.change_opportunity")
    with transaction.atomic():
        _hold_customer(opportunity_id)
        deal = _locked(actor, opportunity_id, version)
        if deal.status != Opportunity.Status.OPEN:
            raise Conflict(_("This deal is already closed."))
        stage = Stage.objects.filter(pipeline_id=deal.pipeline_id, outcome=outcome).order_by("position", "id").first()
        if stage is None:
            raise ValidationError({"stage_id": _("This pipeline has no stage for that outcome.")})
        return _enter_stage(actor, deal, stage, reason)


def _enter_stage(actor, deal: Opportunity, stage: Stage, reason: str) -> Opportunity:
    reason = (reason or "").strip()
    if stage.outcome == Stage.Outcome.LOST and not reason:
        raise ValidationError({"reason": _("Say why the deal was lost.")})
    if stage.pk == deal.stage_id:
        return deal
    before = audit.snapshot(deal)
    now = timezone.now()
    status = {Stage.Outcome.WON: Opportunity.Status.WON, Stage.Outcome.LOST: Opportunity.Status.LOST}.get(
        stage.outcome, Opportunity.Status.OPEN
    )
    deal.stage = stage
    deal.status = status
    deal.probability = {Opportunity.Status.WON: 100, Opportunity.Status.LOST: 0}.get(status, stage.probability)
    deal.weighted_amount = weighted(deal.amount, deal.probability)
    deal.stage_entered_at = now
    deal.closed_at = now if status != Opportunity.Status.OPEN else None
    deal.close_reason = reason if status != Opportunity.Status.OPEN else ""
    changes = audit.diff(before, audit.snapshot(deal))
    save_if_version(deal, deal.version, list(changes))
    StageChange.objects.filter(opportunity=deal, left_at__isnull=True).update(left_at=now)
    StageChange.objects.create(opportunity=deal, stage=stage, entered_at=now, moved_by=actor)
    action = {Opportunity.Status.WON: "won", Opportunity.Status.LOST: "lost"}.get(status, "move")
    audit.record(actor=actor, action=action, instance=deal, changes=changes)
    return deal


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationError({API_NAMES.get(k, k): v for k, v in exc.message_dict.items()}) from exc


def _created(instance) -> dict:
    return {name: [None, value] for name, value in audit.snapshot(instance).items() if value not in (None, "", False)}
