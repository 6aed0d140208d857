"""The sales pipeline (C1, C2, C7): leads, pipelines and their stages, opportunities with stage history, competitors
and project team, and telesales call lists.

Record scope: leads and opportunities carry their own owner and owning unit (the owner's team), restricted with
core.scope.restrict like customers; an opportunity is also hidden when its customer is sensitive and the user may not
see sensitive customers. docs/sales.md explains why deals are scoped on their own owner/unit (the kanban indexes).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.models import OrgUnit
from guanxi.customers.models import Contact, Customer
from guanxi.customers.validators import validate_credit_code, validate_mobile

MONEY = {"max_digits": 14, "decimal_places": 2}


class BilingualName(models.Model):
    """A configurable name stored in both languages (Chinese first): shown in the user's language."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_of(self.name, self.name_en)

    @staticmethod
    def label_of(name: str, name_en: str) -> str:
        """The label of a row read as values() (name, name_en), by the same rule as `label`."""
        if name_en and (translation.get_language() or "").startswith("en"):
            return name_en
        return name


class Pipeline(BilingualName):
    """A sales process with its own stages (新装增容, 增值服务 …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]


class Stage(BilingualName):
    """One step of a pipeline with the probability of winning a deal that reached it (for the weighted forecast)."""

    class Outcome(models.TextChoices):
        OPEN = "open", pgettext_lazy("stage outcome", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(_("code"), max_length=32)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OPEN)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "code"], name="sales_stage_code_per_pipeline"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="sales_stage_probability_le_100"),
        ]


class Lead(models.Model):
    """A potential customer (线索/潜在客户) from any channel, qualified and then converted in one action."""

    class Source(models.TextChoices):
        INBOUND_CALL = "inbound_call", _("Inbound call")
        TELESALES = "telesales", _("Telesales")
        WEBSITE = "website", _("Website")
        REFERRAL = "referral", _("Referral")
        EXHIBITION = "exhibition", _("Exhibition")
        CAMPAIGN = "campaign", _("Marketing campaign")
        SERVICE_HALL = "service_hall", _("Service hall")
        EXPANSION = "expansion", _("Expansion application")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.OTHER)
    kind = models.CharField(_("kind"), max_length=16, choices=Customer.Kind.choices, default=Customer.Kind.ORGANISATION)
    company_name = models.CharField(_("company or person name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, validators=[validate_mobile])
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    need = models.TextField(_("need"), blank=True, help_text=_("What the prospect asked for, e.g. 新装 800 kVA."))
    estimated_amount = models.DecimalField(_("estimated amount (CNY)"), null=True, blank=True, **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    disqualified_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    # What the conversion produced: the lead keeps its links.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    opportunity = models.OneToOneField(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead",
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("assign_lead", _("Can assign leads to other users"))]
        indexes = [
            # lead_list() newest first, per scope: OWN (owner), TEAM/BRANCH (org_unit IN …), ALL.
            models.Index(fields=["owner", "status", "created_at", "id"], name="sales_lead_owner_idx"),
            models.Index(fields=["org_unit", "status", "created_at", "id"], name="sales_lead_unit_idx"),
            models.Index(fields=["created_at", "id"], name="sales_lead_created_idx"),
            # Search and the screen pop by mobile.
            models.Index(fields=["mobile"], name="sales_lead_mobile_idx"),
        ]

    def __str__(self) -> str:
        return self.company_name

    def clean(self) -> None:
        if self.status == self.Status.DISQUALIFIED and not self.disqualified_reason.strip():
            raise ValidationError({"disqualified_reason": _("Say why the lead is disqualified.")})


class Opportunity(models.Model):
    """A deal (销售机会) with a customer moving through the stages of a pipeline."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal status", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(
        _("amount (CNY)"), default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    expected_close = models.DateField(_("expected close date"))
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    # Copied from the stage on every move (and 100/0 on won/lost), so the forecast sums one column, no join.
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    weighted_amount = models.DecimalField(_("weighted amount (CNY)"), default=Decimal("0"), **MONEY)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    close_reason = models.CharField(_("won/lost reason"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"))
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_opportunities"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # The kanban of a team / branch (org_unit IN subtree): per pipeline and stage, count and sums, and each
            # column's newest cards (updated_at, id: read backwards, stopping after the column's cards instead of
            # walking the whole pipeline's stage in sales_opp_stage_idx and fetching each deal for its team). Amounts
            # and the customer (for the sensitive rule) are trailing key columns rather than INCLUDE (PostgreSQL
            # only), so both are index-only scans on both databases.
            models.Index(
                fields=[
                    "org_unit",
                    "pipeline",
                    "status",
                    "stage",
                    "updated_at",
                    "id",
                    "amount",
                    "weighted_amount",
                    "customer",
                ],
                name="sales_opp_unit_board_idx",
            ),
            # The kanban of an account manager (scope OWN) and the owner filter.
            models.Index(
                fields=["owner", "pipeline", "status", "stage", "amount", "weighted_amount", "customer"],
                name="sales_opp_owner_board_idx",
            ),
            # The kanban for scope ALL and the cards of one column, newest activity first.
            models.Index(fields=["pipeline", "status", "stage", "updated_at", "id"], name="sales_opp_stage_idx"),
            # Forecast by month of expected close.
            models.Index(fields=["status", "expected_close"], name="sales_opp_close_idx"),
            # The deals panel of the customer 360 view.
            models.Index(fields=["customer", "status"], name="sales_opp_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One stay of a deal in a stage: the stage history, with the time spent there."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["opportunity", "entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.stage_id} @ {self.entered_at:%Y-%m-%d}"


class Competitor(models.Model):
    """A competitor on one deal (竞争对手): their offer, strengths and weaknesses."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="competitors"
    )
    name = models.CharField(_("name"), max_length=200)
    offer_amount = models.DecimalField(_("their offer (CNY)"), null=True, blank=True, **MONEY)
    offer = models.CharField(_("their offer"), max_length=300, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["opportunity", "name", "id"]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A colleague working on one deal with a role (项目团队)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Deal lead")
        TECHNICAL = "technical", _("Technical support")
        SOLUTION = "solution", _("Solution design")
        FINANCE = "finance", _("Finance")
        SPONSOR = "sponsor", _("Executive sponsor")
        OTHER = "other", _("Other")

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="deal_roles"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OTHER)

    class Meta:
        verbose_name = _("project team member")
        verbose_name_plural = _("project team members")
        ordering = ["opportunity", "id"]
        constraints = [models.UniqueConstraint(fields=["opportunity", "user"], name="sales_one_role_per_member")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class CallList(models.Model):
    """A telesales call list (电话营销): customers picked by a customer filter, a script for the caller."""

    name = models.CharField(_("name"), max_length=200)
    script = models.TextField(_("call script"), blank=True)
    filters = models.JSONField(_("customer filter"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="call_lists"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="call_lists"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("call list")
        verbose_name_plural = _("call lists")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CallListEntry(models.Model):
    """One customer to call on a list, and how the call went."""

    class Outcome(models.TextChoices):
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        CALL_BACK = "call_back", _("Call back later")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    call_list = models.ForeignKey(
        CallList, verbose_name=_("call list"), on_delete=models.CASCADE, related_name="entries"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    called_at = models.DateTimeField(_("called"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activity_id = models.PositiveBigIntegerField(_("activity"), null=True, blank=True)
    follow_up_id = models.PositiveBigIntegerField(_("follow-up task"), null=True, blank=True)

    class Meta:
        verbose_name = _("call list entry")
        verbose_name_plural = _("call list entries")
        ordering = ["call_list", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["call_list", "customer"], name="sales_call_once_per_list")]
        indexes = [
            # The caller's queue (next uncalled entry) and the progress counts by outcome.
            models.Index(fields=["call_list", "outcome", "position"], name="sales_call_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call_list_id}: {self.customer_id}"
