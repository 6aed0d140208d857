"""Seed a few utility tariffs (目录电价) and value-added services with their price lists; admins edit them later."""

import datetime
from decimal import Decimal

from django.db import migrations

# (code, name, kind, unit, tax rate)
PRODUCTS = [
    ("T-LI-E10", "大工业用电 电度电价（1-10千伏）", "tariff", "千瓦时", "0.13"),
    ("T-LI-E35", "大工业用电 电度电价（35-110千伏）", "tariff", "千瓦时", "0.13"),
    ("T-LI-CAP", "大工业用电 基本电价（按变压器容量）", "tariff", "千伏安·月", "0.13"),
    ("T-LI-DEM", "大工业用电 基本电价（按最大需量）", "tariff", "千瓦·月", "0.13"),
    ("T-GCI-E1", "一般工商业用电 电度电价（不满1千伏）", "tariff", "千瓦时", "0.13"),
    ("T-GCI-E10", "一般工商业用电 电度电价（1-10千伏）", "tariff", "千瓦时", "0.13"),
    ("S-OM", "配电设施运维托管", "service", "年", "0.06"),
    ("S-DESIGN", "增容报装设计咨询", "service", "次", "0.06"),
    ("P-METER", "智能电能表（三相）", "product", "只", "0.13"),
]
# (name, category code or None, {product code: unit price})
PRICE_LISTS = [
    (
        "2026年 大工业目录电价",
        "P-LI",
        {"T-LI-E10": "0.6231", "T-LI-E35": "0.6031", "T-LI-CAP": "23.0000", "T-LI-DEM": "34.5000"},
    ),
    ("2026年 一般工商业目录电价", "P-GCI", {"T-GCI-E1": "0.7234", "T-GCI-E10": "0.6984"}),
    ("2026年 增值服务价目表", None, {"S-OM": "36000.0000", "S-DESIGN": "8000.0000", "P-METER": "1280.0000"}),
]
VALID_FROM = datetime.date(2026, 1, 1)


def seed(apps, schema_editor):
    Product = apps.get_model("sales", "Product")
    PriceList = apps.get_model("sales", "PriceList")
    PriceListItem = apps.get_model("sales", "PriceListItem")
    Category = apps.get_model("customers", "Category")
    products = {}
    for code, name, kind, unit, tax in PRODUCTS:
        products[code], _created = Product.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "unit": unit, "tax_rate": Decimal(tax)}
        )
    for name, category_code, prices in PRICE_LISTS:
        category = Category.objects.filter(code=category_code).first() if category_code else None
        if category_code and category is None:
            continue
        price_list, created = PriceList.objects.get_or_create(
            name=name, defaults={"category": category, "valid_from": VALID_FROM}
        )
        if created:
            PriceListItem.objects.bulk_create(
                PriceListItem(price_list=price_list, product=products[code], unit_price=Decimal(price))
                for code, price in prices.items()
            )


def unseed(apps, schema_editor):
    apps.get_model("sales", "PriceList").objects.filter(name__in=[p[0] for p in PRICE_LISTS]).delete()
    used = apps.get_model("sales", "QuoteLine").objects.values("product_id")
    apps.get_model("sales", "Product").objects.filter(code__in=[p[0] for p in PRODUCTS]).exclude(id__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_commerce"),
        ("customers", "0002_seed_categories_regions"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
