"""Quotes (询报价): line items from products, discounts with approval above a limit, revisions."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentSequence(models.Model):
    """Last number issued per series (e.g. QT2026, HT2026); locked while a number is taken, so numbers are unique."""

    key = models.CharField(max_length=32, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class Quote(models.Model):
    """A priced offer to a customer. A revision of a sent quote is a new row with the same number and revision+1."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded")

    class Approval(models.TextChoices):
        NOT_NEEDED = "not_needed", _("Not needed")
        REQUIRED = "required", _("Approval required")
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    number = models.CharField(_("quote number"), max_length=32, editable=False)
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_revision", editable=False
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="quotes"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    approval = models.CharField(_("approval"), max_length=16, choices=Approval.choices, default=Approval.NOT_NEEDED)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # Totals, recomputed by the service on every line change (rounded per line, ROUND_HALF_UP to 0.01).
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    net_total = models.DecimalField(_("net amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        permissions = [("approve_quote", _("Can approve quote discounts above the limit"))]
        constraints = [models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_unique")]
        indexes = [
            # quote_list(): newest first, keyset on (created_at, id).
            models.Index(fields=["created_at", "id"], name="quote_created_idx"),
            # The quotes panel of one customer.
            models.Index(fields=["customer", "created_at"], name="quote_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision} {self.title}"

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT


class QuoteLine(models.Model):
    """One line of a quote. Amounts are stored as computed by sales.pricing.line_amounts."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit = models.CharField(_("unit"), max_length=32)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=16, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    list_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    net_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quote_id}/{self.position} {self.product_id}"


class QuoteApproval(models.Model):
    """A request to approve a quote's discount above the owner's limit, and its decision (审批)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    max_discount = models.DecimalField(_("highest discount %"), max_digits=5, decimal_places=2)
    limit = models.DecimalField(_("limit %"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.quote_id}: {self.status}"
