"""The partial index of sensitive customers' ids belongs to the customers app (customers 0007, a model index); sales
0006 drops the copy sales 0005 made. Both statements run on SQLite and PostgreSQL, and the index is there after them."""

from importlib import import_module

import pytest
from django.db import connection

from guanxi.customers.models import Customer

pytestmark = pytest.mark.django_db
INDEX = "customers_sensitive_ids_idx"


def indexes() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Customer._meta.db_table)


def test_the_sensitive_ids_index_is_a_model_index_of_customers():
    [declared] = [index for index in Customer._meta.indexes if index.name == INDEX]
    assert declared.fields == ["id"] and declared.condition is not None
    assert indexes()[INDEX]["columns"] == ["id"]


def test_the_hand_over_from_sales_drops_the_old_copy_and_customers_creates_it_again():
    drop = import_module("guanxi.sales.migrations.0006_drop_sensitive_ids_index").Migration.operations[0]
    [declared] = [index for index in Customer._meta.indexes if index.name == INDEX]
    with connection.cursor() as cursor:  # inside the test's transaction: rolled back afterwards
        cursor.execute(drop.sql)
        assert INDEX not in indexes()
        cursor.execute(drop.sql)  # IF EXISTS: a database that never had it migrates too
        cursor.execute(str(declared.create_sql(Customer, connection.schema_editor())))
    assert indexes()[INDEX]["columns"] == ["id"]
