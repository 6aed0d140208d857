"""Products, services and tariffs (产品管理) and their price lists by customer category and validity period."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """Something the company sells: a product, a service (e.g. 运维托管) or a tariff item (e.g. 大工业电度电价)."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        TARIFF = "tariff", _("Tariff")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PRODUCT)
    unit = models.CharField(_("unit"), max_length=32)
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.13"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("As a fraction: 0.13 is 13 %."),
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceList(models.Model):
    """Prices valid for one customer category (or every category when empty) over a period (valid_to open-ended)."""

    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        "customers.Category",
        verbose_name=_("customer category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-valid_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="price_list_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    """One product's unit price in a price list (tariffs carry 4 decimals: 0.6231 元/kWh)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="prices")
    unit_price = models.DecimalField(
        _("unit price"), max_digits=16, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [models.UniqueConstraint(fields=["price_list", "product"], name="one_price_per_list_product")]
        indexes = [
            # price_items_for(): the prices of the products quoted, then filtered by the list's category and period.
            models.Index(fields=["product", "price_list"], name="price_item_product_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.unit_price}"
