"""Customer master: categories, regions, tags, customers and their contacts."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit
from guanxi.core.tree import TreeNode
from guanxi.customers.normalize import name_key
from guanxi.customers.validators import (
    validate_credit_code,
    validate_id_number,
    validate_landline,
    validate_mobile,
)


class Category(TreeNode):
    """Configurable customer category tree per industry (power: 大工业/一般工商业/居民/农业 …)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class Region(TreeNode):
    """Administrative region (GB/T 2260): province → city → district."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerSequence(models.Model):
    """Last customer number issued per branch; the row is locked while a number is taken, so numbers are gap-free."""

    branch_code = models.CharField(max_length=32, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.branch_code}: {self.last}"


class Customer(models.Model):
    """An organisation or a person the company serves, owned by an account manager and a team."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        INDIVIDUAL = "individual", _("Individual")

    class Area(models.TextChoices):
        URBAN = "urban", _("Urban")
        RURAL = "rural", _("Rural")

    class Stage(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        AT_RISK = "at_risk", _("At risk")
        LOST = "lost", _("Lost")
        WON_BACK = "won_back", _("Won back")

    class Grade(models.TextChoices):
        KEY = "key", _("Key")
        POTENTIAL = "potential", _("Potential")
        GENERAL = "general", _("General")

    number = models.CharField(_("customer number"), max_length=32, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.CharField(_("urban/rural"), max_length=8, choices=Area.choices, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_credit_code],
    )
    id_number = models.CharField(
        _("ID number"), max_length=18, null=True, blank=True, unique=True, validators=[validate_id_number]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    stage = models.CharField(_("lifecycle stage"), max_length=16, choices=Stage.choices, default=Stage.POTENTIAL)
    grade = models.CharField(_("grade"), max_length=16, choices=Grade.choices, default=Grade.GENERAL)
    vip = models.BooleanField(_("VIP"), default=False)
    sensitive = models.BooleanField(_("sensitive"), default=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="customers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Duplicate detection: the normalised name (normalize.name_key), kept in step by save().
    name_key = models.CharField(max_length=200, editable=False, default="", db_index=True)
    # A merged customer stays as a tombstone pointing at the survivor, so old links and numbers still resolve.
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    # The newest done visit activity (D2 overdue visits); None: never visited. Written only by
    # activities.last_visits.refresh_last_visits() inside the activity services' transactions (not by customer
    # edits, and without a new version: it is a summary of other records).
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("access_sensitive_customer", _("Can see and change sensitive customers")),
            ("transfer_customer", _("Can transfer customers between owners")),
        ]
        indexes = [
            # customer_list() ordered by name, keyset on (name, id): the unfiltered list and q-less pages.
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            # The account manager's list (scope OWN) ordered by name.
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name_idx"),
            # The account manager's list filtered on grade (bench: am1 page 30 from 18.9 to 0.6 ms on 1M rows).
            models.Index(fields=["owner", "grade", "name", "id"], name="customer_owner_grade_name_idx"),
            # Team and branch scopes (org_unit IN subtree) ordered by name, without and with a grade filter.
            models.Index(fields=["org_unit", "name", "id"], name="customer_unit_name_idx"),
            models.Index(fields=["org_unit", "grade", "name", "id"], name="customer_unit_grade_name_idx"),
            # Lists filtered on grade (and region, checked on the rows) ordered by name.
            models.Index(fields=["grade", "name", "id"], name="customer_grade_name_idx"),
            # Region filter without grade.
            models.Index(fields=["region", "name", "id"], name="customer_region_name_idx"),
            # Newest first.
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            # The few sensitive customers' ids: other apps' scope rules read them once per query as
            # `customer_id NOT IN (SELECT id … WHERE sensitive)` (sales.deals_selectors.opportunity_queryset, the
            # kanban; service.analysis) instead of joining each of their rows to its customer.
            models.Index(fields=["id"], condition=Q(sensitive=True), name="customers_sensitive_ids_idx"),
            # Overdue visits (activities.visits.overdue_visits): per account manager and grade, the live customers in
            # order of the date their visit interval counts from (last visit, else creation); each (owner, grade)
            # reads only its most overdue rows, not the whole book.
            models.Index(
                F("owner"),
                F("grade"),
                Coalesce("last_visit_at", "created_at"),
                F("id"),
                condition=Q(archived_at__isnull=True, merged_into__isnull=True),
                name="customer_visit_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id and self.pk and self._has_ancestor(self.pk):
            raise ValidationError({"parent": _("A customer cannot be its own parent or a member of its members.")})

    def _has_ancestor(self, ancestor_id: int) -> bool:
        seen, current = set(), self.parent_id
        while current and current not in seen:
            if current == ancestor_id:
                return True
            seen.add(current)
            current = Customer.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        return False

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Contact(models.Model):
    """A person at a customer (联系人): role, phones, channels and per-channel consent."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        MANAGER = "manager", _("Manager")
        ELECTRICIAN = "electrician", _("Electrician")
        FINANCE = "finance", _("Finance")
        PROCUREMENT = "procurement", _("Procurement")
        TECHNICAL = "technical", _("Technical")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")
        VISIT = "visit", _("Visit")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, validators=[validate_mobile])
    landline = models.CharField(_("landline"), max_length=32, blank=True, validators=[validate_landline])
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, choices=Channel.choices, blank=True)
    # Opt-outs per channel (consent withdrawn); marketing must honour them.
    opt_out_phone = models.BooleanField(_("no phone calls"), default=False)
    opt_out_sms = models.BooleanField(_("no SMS"), default=False)
    opt_out_email = models.BooleanField(_("no email"), default=False)
    opt_out_wechat = models.BooleanField(_("no WeChat"), default=False)
    primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(primary=True), name="one_primary_contact"),
        ]
        indexes = [
            # Mobile lookups (screen pop, dedupe).
            models.Index(fields=["mobile"], name="contact_mobile_idx"),
            # Email intake matches the sender case-insensitively (email__iexact is UPPER(email) = UPPER(%s) on
            # PostgreSQL); without it each incoming email scanned every contact.
            models.Index(Upper("email"), condition=~Q(email=""), name="contact_email_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.name
