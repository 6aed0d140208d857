"""Seed the category trees (A1) and regions. Historical models have no custom save(), so paths are set here."""

from django.db import migrations

from guanxi.customers.reference_data import categories, regions


def _load(model, rows, extra):
    by_code = {}
    for code, name, name_en, attr, parent_code in rows:
        parent = by_code.get(parent_code)
        node, _ = model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, extra: attr, "parent": parent}
        )
        node.path = f"{parent.path if parent else '/'}{node.pk}/"
        node.save(update_fields=["path"])
        by_code[code] = node


def seed(apps, schema_editor):
    _load(apps.get_model("customers", "Category"), categories(), "industry")
    _load(apps.get_model("customers", "Region"), regions(), "level")


def unseed(apps, schema_editor):
    for model_name, rows in (("Category", categories()), ("Region", regions())):
        model = apps.get_model("customers", model_name)
        for code, *_rest in reversed(rows):
            model.objects.filter(code=code).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
