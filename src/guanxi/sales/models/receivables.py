"""Receivables (合约回款): a contract's payment plan (instalments) and the payments recorded against it."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Instalment(models.Model):
    """One due amount of a contract's payment plan; `paid_amount` is the sum of its payments, kept by the service."""

    contract = models.ForeignKey("sales.Contract", on_delete=models.CASCADE, related_name="instalments")
    sequence = models.PositiveIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    paid_amount = models.DecimalField(_("paid"), max_digits=16, decimal_places=2, default=Decimal("0"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="instalment_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(paid_amount__lte=models.F("amount")), name="instalment_not_overpaid"
            ),
        ]
        indexes = [
            # overdue_instalments(): unpaid instalments due before today.
            models.Index(fields=["due_date"], name="instalment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.sequence} {self.due_date} {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


class Payment(models.Model):
    """Money received against one instalment (回款). Several partial payments may settle one instalment."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Bank transfer")
        ACCEPTANCE = "acceptance", _("Bank acceptance bill")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="payments")
    contract = models.ForeignKey("sales.Contract", on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            # payment_list(): newest first, keyset on (recorded_at, id).
            models.Index(fields=["recorded_at", "id"], name="payment_recorded_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.paid_on} {self.amount}"
