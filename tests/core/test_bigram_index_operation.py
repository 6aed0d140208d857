"""core.textsearch.BigramIndexes: the migration operation of the bigram search indexes (activities 0004, sales 0005,
service 0005 and 0012) runs the DDL of the *_sql functions on either database, drops it again, and shows in
sqlmigrate."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.writer import OperationWriter

from guanxi.core import textsearch
from guanxi.core.textsearch import BigramIndexes
from tests.conftest import make_customer
from tests.service.factories import make_ticket

TICKETS = ("service_ticket", "subject", "ticket_subject_bigram_idx")
LEADS = [
    ("sales_lead", "company_name", "sales_lead_company_bigram_idx"),
    ("sales_lead", "contact_name", "sales_lead_contact_bigram_idx"),
    ("sales_opportunity", "name", "sales_opp_name_bigram_idx"),
]


class Editor:
    """What the operation needs of a schema editor; runs inside the test's transaction (SQLite's own schema editor
    refuses to open inside one)."""

    def __init__(self):
        self.connection = connection
        self.statements: list[str] = []

    def execute(self, sql, params=None):
        self.statements.append(sql)
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_on_postgresql_it_builds_each_gin_index_then_analyses_each_table_once():
    assert BigramIndexes(LEADS).create_sql("postgresql") == [
        "SET LOCAL maintenance_work_mem = '256MB'",
        *(textsearch.postgresql_bigram_index_sql(*index) for index in LEADS),
        "ANALYZE sales_lead",
        "ANALYZE sales_opportunity",
    ]
    assert BigramIndexes(LEADS).drop_sql("postgresql") == [
        "DROP INDEX IF EXISTS sales_lead_company_bigram_idx",
        "DROP INDEX IF EXISTS sales_lead_contact_bigram_idx",
        "DROP INDEX IF EXISTS sales_opp_name_bigram_idx",
    ]


def test_a_table_created_in_the_same_migration_needs_neither_memory_nor_statistics():
    assert BigramIndexes([TICKETS], existing_rows=False).create_sql("postgresql") == [
        textsearch.postgresql_bigram_index_sql(*TICKETS)
    ]


def test_on_sqlite_it_builds_and_drops_each_fts_table_with_its_triggers():
    operation = BigramIndexes(LEADS)
    assert operation.create_sql("sqlite") == [
        sql for table, column, _index in LEADS for sql in textsearch.sqlite_bigram_index_sql(table, column)
    ]
    assert operation.drop_sql("sqlite") == [
        sql for table, column, _index in LEADS for sql in textsearch.sqlite_drop_bigram_index_sql(table, column)
    ]


def test_dropped_and_built_again_the_index_finds_the_rows_already_there(db, users):
    customer = make_customer(users.am1)
    ticket = make_ticket(users.agent1, customer, subject="客户反映电表计量异常")
    operation, editor = BigramIndexes([TICKETS]), Editor()
    if connection.vendor == "postgresql":  # a table with pending foreign-key checks cannot be indexed
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    operation.database_backwards("service", editor, None, None)
    operation.database_forwards("service", editor, None, None)

    expected = BigramIndexes([TICKETS]).drop_sql(connection.vendor) + operation.create_sql(connection.vendor)
    assert editor.statements == expected
    found = textsearch.substring_matches(ticket.__class__.objects.all(), "subject", ["计量"], 10)
    assert [row.pk for row in found] == [ticket.pk]


@pytest.mark.postgresql  # SQLite's schema editor refuses to open inside the test's transaction
def test_sqlmigrate_shows_its_ddl(db):
    out = io.StringIO()
    call_command("sqlmigrate", "service", "0012", stdout=out)
    assert "-- Bigram search index on service_ticket.subject" in out.getvalue()
    assert textsearch.postgresql_bigram_index_sql(*TICKETS) in out.getvalue()


def test_it_can_be_written_into_a_migration_file():
    code, imports = OperationWriter(BigramIndexes([TICKETS], existing_rows=False), indentation=0).serialize()
    assert imports == {"import guanxi.core.textsearch"}
    namespace = {}
    exec("import guanxi.core.textsearch\noperation = " + code.rstrip(","), namespace)  # noqa: S102
    operation = namespace["operation"]
    assert (operation.indexes, operation.existing_rows) == ([TICKETS], False)
