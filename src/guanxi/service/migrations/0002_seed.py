"""Seed the service reference data (guanxi.service.reference_data). Schema and data apart, reversible."""

from django.db import migrations

from guanxi.service import reference_data


def seed(apps, schema_editor):
    reference_data.seed(apps)


def unseed(apps, schema_editor):
    reference_data.unseed(apps)


class Migration(migrations.Migration):
    dependencies = [("service", "0001_tickets")]
    operations = [migrations.RunPython(seed, unseed)]
