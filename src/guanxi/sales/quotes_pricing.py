"""Quote arithmetic: each line rounded to the fen (ROUND_HALF_UP), totals are sums of rounded line amounts, so the
printed lines always add up to the printed total."""

from dataclasses import dataclass
from decimal import Decimal, localcontext

from guanxi.sales.commerce_common import round_money

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class LineAmounts:
    list_amount: Decimal  # quantity × unit price
    discount_amount: Decimal
    net_amount: Decimal  # after discount, before tax
    tax_amount: Decimal
    total: Decimal  # net + tax


def line_amounts(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal) -> LineAmounts:
    """Unit prices are tax-exclusive (不含税单价); the discount applies before tax."""
    with localcontext() as ctx:
        ctx.prec = 60  # exact products of the widest fields before the one rounding step
        list_amount = round_money(Decimal(quantity) * Decimal(unit_price))
        discount_amount = round_money(list_amount * Decimal(discount_percent) / HUNDRED)
        net_amount = list_amount - discount_amount
        tax_amount = round_money(net_amount * Decimal(tax_rate))
    return LineAmounts(list_amount, discount_amount, net_amount, tax_amount, net_amount + tax_amount)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal


def totals(lines: list[LineAmounts]) -> Totals:
    zero = Decimal("0.00")
    return Totals(
        subtotal=sum((line.list_amount for line in lines), zero),
        discount_total=sum((line.discount_amount for line in lines), zero),
        net_total=sum((line.net_amount for line in lines), zero),
        tax_total=sum((line.tax_amount for line in lines), zero),
        total=sum((line.total for line in lines), zero),
    )
