"""Contracts (合同管理): templates with merge fields, signing, status, attachments and renewal reminders."""

import uuid
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractTemplate(models.Model):
    """Contract text with merge fields ({{ customer_name }}, {{ contract_number }} …), see sales.contract_text."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    body = models.TextField(_("body"))
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """An agreement with a customer: parties, period, value, terms and status (draft → signed → active → …)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("contract number"), max_length=32, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    quote = models.OneToOneField(
        "sales.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract",
    )
    template = models.ForeignKey(
        ContractTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contracts"
    )
    party_a = models.CharField(_("party A"), max_length=200)
    party_b = models.CharField(_("party B"), max_length=200)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    value = models.DecimalField(
        _("contract value"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    termination_reason = models.TextField(_("termination reason"), blank=True)
    renewal_notice_days = models.PositiveIntegerField(_("renewal reminder (days before end)"), default=30)
    # The end date a renewal reminder was sent for: the reminder job claims a contract by setting it (idempotent).
    renewal_reminded_for = models.DateField(null=True, blank=True, editable=False)
    plan_note = models.TextField(_("payment plan note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="contract_period")
        ]
        indexes = [
            # contract_list(): newest first, keyset on (created_at, id).
            models.Index(fields=["created_at", "id"], name="contract_created_idx"),
            # expiring_contracts() and the renewal job: live contracts ordered by end date.
            models.Index(fields=["status", "end_date"], name="contract_status_end_idx"),
            models.Index(fields=["customer", "created_at"], name="contract_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


def attachment_path(instance: "ContractAttachment", filename: str) -> str:
    """A random name below sales/contracts/: the client's name is kept in `name`, never used as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"sales/contracts/{instance.contract_id}/{uuid.uuid4().hex}{suffix}"


class ContractAttachment(models.Model):
    """A file attached to a contract (scan of the signed copy …), stored under GUANXI_HOME/media, never served as
    static: downloads go through a view that checks the record scope."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
