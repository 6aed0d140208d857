#!/usr/bin/env python
"""Bench data: the demo organisation and users, then customers and contacts at scale through the bulk path.

    .venv/bin/python bench/generate.py --scale large                       # PostgreSQL guanxi_bench, COPY
    .venv/bin/python bench/generate.py --scale medium --database-url sqlite:///bench/data/medium.sqlite3

small = 10,000 customers, medium = 100,000, large = 1,000,000; about 3 contacts per customer. The target database is
migrated, the organisation and users come from `guanxi.demo.build_demo(customers=0)` (admin, exec1, bm1-3, lead1-6,
am1-12, agent1-3, analyst1-3; password `bench-pass`), then customers, contacts and customer tags are loaded in bulk:
COPY on PostgreSQL, executemany on SQLite. Secondary indexes and foreign keys of the three loaded tables are dropped
for the load and recreated from their saved definitions (checked afterwards), then VACUUM ANALYZE / ANALYZE.

Values have the shape of `guanxi.demo.fake_customer_rows` (Chinese names, regions, categories, grades, stages, VIP and
sensitive shares, valid and unique credit codes and ID numbers, owners spread over the account managers, the owner's
team as org_unit, numbers C<branch><seq> with CustomerSequence updated), drawn from pools built with Faker zh_CN so a
million rows take seconds rather than the half hour per-row Faker calls would. Differences from the demo, on purpose:
about 3.05 contacts per customer (demo: 2.4), creation dates spread over five years, 1% archived customers, no
audit-log rows (the demo writes one per customer; nothing on the read paths measured reads them).
"""

import argparse
import contextlib
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SCALES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench"
PASSWORD = "bench-pass"
LOADED_TABLES = ("customers_customer", "customers_contact", "customers_customer_tags")
BATCH = 20_000


def normalise_database_url(url: str) -> str:
    """Absolute path for SQLite files (relative to the current directory), unchanged otherwise."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        return f"sqlite:///{path.resolve()}"
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def prepare_database(url: str, *, reset: bool) -> None:
    """Create the PostgreSQL database (or the SQLite file's directory); drop it first with --reset."""
    if is_sqlite(url):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    dbname = psycopg.conninfo.conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists and reset:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            print(f"created database {dbname}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ.setdefault("GUANXI_HOME", str(BENCH_DIR / "data" / "home"))
    import django

    django.setup()


# --------------------------------------------------------------------------------------------------------------------
# Value pools and rows


@dataclass
class Reference:
    districts: list  # Region rows of level district
    categories: list  # leaf categories of the power tree (as the demo)
    managers: list  # (user id, team id, branch code)
    tag_ids: list
    admin_id: int
    id_places: dict  # district code -> (place code, [valid birth years]) for ID numbers


class Pools:
    """Faker zh_CN values drawn once; rows pick from them (same providers as guanxi.demo.fake_customer_rows)."""

    def __init__(self, seed: int):
        from faker import Faker

        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.person_names = [fake.name() for _ in range(30_000)]
        self.company_prefixes = [fake.company_prefix() for _ in range(5_000)]
        self.streets = [fake.street_name() for _ in range(3_000)]
        self.emails = [fake.email() for _ in range(30_000)]


def id_number_places(districts: list) -> dict:
    """For every district, a place code and the birth years GB 11643 (python-stdnum) accepts for it.

    stdnum checks that the county existed in the birth year (e.g. 香坊区 230110 only from 2006); a district that did
    not exist for 1950-2005 births borrows the place code of another district, as people move.
    """
    from stdnum.cn import ric

    def valid_years(code: str) -> list[int]:
        return [year for year in range(1950, 2006) if ric.is_valid(with_ric_check(f"{code}{year}0615001"))]

    places = {d.code: (d.code, valid_years(d.code)) for d in districts}
    fallback = [entry for entry in places.values() if entry[1]]
    for index, (code, (_place, years)) in enumerate(places.items()):
        if not years:
            places[code] = fallback[index % len(fallback)]
    return places


def with_ric_check(body17: str) -> str:
    from stdnum.cn import ric

    # ric.calc_check_digit() expects the full 18 characters and ignores the last one.
    return body17 + ric.calc_check_digit(body17 + "0")


class RowMaker:
    """Customer, contact and tag rows as tuples in the COPY / INSERT column order below."""

    CUSTOMER_COLUMNS = [
        "id",
        "number",
        "name",
        "kind",
        "category_id",
        "region_id",
        "area",
        "address",
        "credit_code",
        "id_number",
        "parent_id",
        "stage",
        "grade",
        "vip",
        "sensitive",
        "owner_id",
        "org_unit_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "archived_at",
        "version",
    ]
    CONTACT_COLUMNS = [
        "id",
        "customer_id",
        "name",
        "role",
        "title",
        "mobile",
        "landline",
        "email",
        "wechat",
        "birthday",
        "preferred_channel",
        "opt_out_phone",
        "opt_out_sms",
        "opt_out_email",
        "opt_out_wechat",
        "primary",
        "created_at",
        "updated_at",
        "version",
    ]
    TAG_COLUMNS = ["id", "customer_id", "tag_id"]

    def __init__(self, ref: Reference, pools: Pools, *, seed: int, sqlite: bool, counters: dict):
        from guanxi.customers.models import Contact, Customer
        from guanxi.demo import ORG_SUFFIXES

        self.ref, self.pools, self.counters = ref, pools, counters
        self.rng = random.Random(seed)
        self.sqlite = sqlite
        self.grades = [Customer.Grade.KEY.value] * 1 + [Customer.Grade.POTENTIAL.value] * 3
        self.grades += [Customer.Grade.GENERAL.value] * 6
        self.stages = [s for s, _label in Customer.Stage.choices]
        self.roles = [c for c, _label in Contact.Role.choices]
        self.suffixes = ORG_SUFFIXES
        self.used_ids: set[str] = set()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.contact_id = 0
        self.tag_row_id = 0

    def stamp(self, moment: datetime) -> str:
        # Django keeps naive UTC text in SQLite; PostgreSQL takes an explicit offset.
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.sqlite else moment.strftime("%Y-%m-%d %H:%M:%S+00")

    def id_number(self, district_code: str, serial: int) -> str | None:
        place, years = self.ref.id_places[district_code]
        rng = self.rng
        for _attempt in range(5):
            birth = date(rng.choice(years), rng.randint(1, 12), rng.randint(1, 28))
            number = with_ric_check(f"{place}{birth:%Y%m%d}{(serial + _attempt) % 1000:03d}")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        return None

    def customer(self, customer_id: int):
        """One customer tuple plus its contact and tag tuples."""
        from stdnum.cn import uscc

        rng, pools, ref = self.rng, self.pools, self.ref
        region = rng.choice(ref.districts)
        individual = rng.random() < 0.3
        owner_id, team_id, branch = rng.choice(ref.managers)
        self.counters[branch] += 1
        if individual:
            name = rng.choice(pools.person_names)
            credit_code = None
            id_number = self.id_number(region.code, customer_id)
        else:
            name = rng.choice(pools.company_prefixes) + rng.choice(pools.company_prefixes)[:2]
            name += rng.choice(self.suffixes)
            body = f"91{region.code}{customer_id % 10**8:08d}{rng.randint(0, 9)}"
            credit_code = body + uscc.calc_check_digit(body)
            id_number = None
        created = self.now - timedelta(seconds=rng.randint(3600, 5 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randint(0, 90 * 86400))
        updated = min(updated, self.now)
        archived = self.stamp(updated) if rng.random() < 0.01 else None
        created_s, updated_s = self.stamp(created), self.stamp(updated)
        customer = (
            customer_id,
            f"C{branch}{self.counters[branch]:07d}",
            name,
            "individual" if individual else "organisation",
            rng.choice(ref.categories).pk,
            region.pk,
            rng.choice(("urban", "urban", "rural")),
            f"{region.name}{rng.choice(pools.streets)}{rng.randint(1, 999)}号",
            credit_code,
            id_number,
            None,
            rng.choice(self.stages),
            rng.choice(self.grades),
            rng.random() < 0.05,
            rng.random() < 0.01,
            owner_id,
            team_id,
            ref.admin_id,
            created_s,
            updated_s,
            archived,
            1,
        )
        contacts = []
        for n in range(rng.choice((1, 2, 3)) if individual else rng.choice((2, 3, 4, 5))):
            self.contact_id += 1
            contacts.append(
                (
                    self.contact_id,
                    customer_id,
                    name if (individual and n == 0) else rng.choice(pools.person_names),
                    rng.choice(self.roles),
                    "",
                    f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
                    "",
                    rng.choice(pools.emails) if rng.random() < 0.5 else "",
                    "",
                    None,
                    "",
                    False,
                    False,
                    False,
                    False,
                    n == 0,
                    created_s,
                    created_s,
                    1,
                )
            )
        tags = []
        if rng.random() < 0.3:
            for tag_id in rng.sample(ref.tag_ids, 2):
                self.tag_row_id += 1
                tags.append((self.tag_row_id, customer_id, tag_id))
        return customer, contacts, tags


# --------------------------------------------------------------------------------------------------------------------
# Loading


def load_reference(seed: int) -> Reference:
    from django.contrib.auth import get_user_model

    from guanxi.core.roles import ACCOUNT_MANAGER
    from guanxi.customers.models import Category, Region, Tag
    from guanxi.demo import TAGS

    User = get_user_model()
    managers = []
    for user in User.objects.filter(groups__name=ACCOUNT_MANAGER).select_related("profile__org_unit").order_by("id"):
        unit = user.profile.org_unit
        branch = unit.branch()
        managers.append((user.pk, unit.pk, branch.code if branch else unit.code))
    districts = list(Region.objects.filter(level=Region.Level.DISTRICT).order_by("code"))
    categories = [c for c in Category.objects.filter(code__startswith="P-") if not c.children.exists()]
    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    return Reference(
        districts=districts,
        categories=categories,
        managers=managers,
        tag_ids=tags,
        admin_id=User.objects.get(username="admin").pk,
        id_places=id_number_places(districts),
    )


class TablePlan:
    """The columns of one loaded table: the generator's own, then any other column of the model (added since this
    script was written) filled from a computed value, the field default or NULL, so new columns need no edit here."""

    def __init__(self, model, known: list[str], computed: dict | None = None):
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [column for column in known if column not in fields]
        if unknown:
            raise RuntimeError(f"{model._meta.db_table} has no columns {unknown}: update bench/generate.py")
        self.table = model._meta.db_table
        self.fillers = []
        extra = []
        for column, field in fields.items():
            if column in known:
                continue
            if computed and column in computed:
                filler = computed[column]
            elif field.has_default() and not callable(field.default):
                filler = _constant(field.get_default())
            elif field.null:
                filler = _constant(None)
            else:
                raise RuntimeError(f"{self.table}.{column}: no value and no default; teach bench/generate.py")
            extra.append(column)
            self.fillers.append(filler)
        self.columns = list(known) + extra

    def complete(self, rows: list[tuple]) -> list[tuple]:
        if not self.fillers:
            return rows
        fillers = self.fillers
        return [row + tuple(fill(row) for fill in fillers) for row in rows]


def _constant(value):
    return lambda _row: value


def _name_key_filler(name_index: int):
    """Customer.name_key (duplicate detection) as Customer.save() computes it; cached, names repeat."""
    from guanxi.customers.normalize import name_key

    cache: dict[str, str] = {}

    def fill(row: tuple) -> str:
        name = row[name_index]
        key = cache.get(name)
        if key is None:
            key = cache[name] = name_key(name)
        return key

    return fill


def table_plans() -> tuple[TablePlan, TablePlan, TablePlan]:
    from guanxi.customers.models import Contact, Customer

    computed = {}
    with contextlib.suppress(ImportError):
        computed["name_key"] = _name_key_filler(RowMaker.CUSTOMER_COLUMNS.index("name"))
    return (
        TablePlan(Customer, RowMaker.CUSTOMER_COLUMNS, computed),
        TablePlan(Contact, RowMaker.CONTACT_COLUMNS),
        TablePlan(Customer.tags.through, RowMaker.TAG_COLUMNS),
    )


class PgLoader:
    """COPY into the three tables with their secondary indexes and foreign keys set aside, all in one transaction."""

    def __init__(self, connection):
        self.conn = connection  # psycopg connection, inside a transaction
        self.indexes: list[tuple[str, str, str]] = []
        self.constraints: list[tuple[str, str, str, str]] = []

    def drop_secondary(self) -> None:
        cur = self.conn.cursor()
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute("SET LOCAL synchronous_commit = off")
        tables = list(LOADED_TABLES)
        self.constraints = cur.execute(
            """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('f', 'u')
               ORDER BY c.contype, c.conname""",
            [tables],
        ).fetchall()
        self.indexes = cur.execute(
            """SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                               AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
               ORDER BY 2""",
            [tables],
        ).fetchall()
        for table, name, _kind, _definition in sorted(self.constraints, key=lambda c: c[2] != "f"):
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for _table, name, _definition in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')
        print(f"  set aside {len(self.indexes)} indexes and {len(self.constraints)} constraints for the load")

    def copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            write = copy.write_row
            for row in rows:
                write(row)

    def restore_secondary(self) -> None:
        cur = self.conn.cursor()
        for _table, _name, definition in self.indexes:
            cur.execute(definition)
        for table, name, _kind, definition in sorted(self.constraints, key=lambda c: c[2] == "f"):
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        names = {
            row[0]
            for row in cur.execute(
                """SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text = ANY(%s)
                   UNION SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)""",
                [list(LOADED_TABLES), list(LOADED_TABLES)],
            )
        }
        missing = {n for _t, n, _d in self.indexes} | {n for _t, n, _k, _d in self.constraints}
        missing -= names
        if missing:
            raise RuntimeError(f"indexes or constraints not restored: {sorted(missing)}")

    def finish(self, sequences: dict[str, int]) -> None:
        cur = self.conn.cursor()
        for table, last in sequences.items():
            cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, max(last, 1)])


class SqliteLoader:
    """executemany into the three tables with their (droppable) secondary indexes set aside."""

    def __init__(self, connection):
        self.conn = connection  # sqlite3 connection, inside a transaction
        self.indexes: list[tuple[str, str]] = []

    def drop_secondary(self) -> None:
        marks = ",".join("?" * len(LOADED_TABLES))
        self.indexes = self.conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            LOADED_TABLES,
        ).fetchall()
        for name, _sql in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        print(f"  set aside {len(self.indexes)} indexes for the load")

    def copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)

    def restore_secondary(self) -> None:
        for _name, statement in self.indexes:
            self.conn.execute(statement)

    def finish(self, sequences: dict[str, int]) -> None:
        pass  # AUTOINCREMENT tables keep sqlite_sequence up to date on explicit ids


def bulk_load(count: int, *, seed: int, sqlite: bool) -> dict:
    from django.db import connection, transaction

    from guanxi.customers.models import CustomerSequence

    started = time.perf_counter()
    ref = load_reference(seed)
    pools = Pools(seed)
    branches = {branch for *_ids, branch in ref.managers}
    counters = {branch: CustomerSequence.objects.get_or_create(branch_code=branch)[0].last for branch in branches}
    maker = RowMaker(ref, pools, seed=seed, sqlite=sqlite, counters=counters)
    customer_plan, contact_plan, tag_plan = table_plans()
    print(f"  pools and reference data ready in {time.perf_counter() - started:.1f} s")
    totals = {"customers": 0, "contacts": 0, "tags": 0}
    connection.ensure_connection()
    if sqlite:
        connection.connection.execute("PRAGMA synchronous = OFF")  # per connection, outside a transaction
    with transaction.atomic():
        loader = SqliteLoader(connection.connection) if sqlite else PgLoader(connection.connection)
        loader.drop_secondary()
        load_started = time.perf_counter()
        next_id = 1
        while next_id <= count:
            upto = min(next_id + BATCH, count + 1)
            customers, contacts, tags = [], [], []
            for customer_id in range(next_id, upto):
                customer, its_contacts, its_tags = maker.customer(customer_id)
                customers.append(customer)
                contacts.extend(its_contacts)
                tags.extend(its_tags)
            for plan, rows in ((customer_plan, customers), (contact_plan, contacts), (tag_plan, tags)):
                loader.copy(plan.table, plan.columns, plan.complete(rows))
            totals["customers"] += len(customers)
            totals["contacts"] += len(contacts)
            totals["tags"] += len(tags)
            next_id = upto
            elapsed = time.perf_counter() - load_started
            rows = sum(totals.values())
            print(
                f"  {totals['customers']:>9,} customers {totals['contacts']:>9,} contacts "
                f"{rows / elapsed:>9,.0f} rows/s",
                flush=True,
            )
        copied = time.perf_counter()
        totals["load_seconds"] = copied - load_started
        loader.restore_secondary()
        totals["index_seconds"] = time.perf_counter() - copied
        loader.finish(
            {
                "customers_customer": count,
                "customers_contact": maker.contact_id,
                "customers_customer_tags": maker.tag_row_id,
            }
        )
        for branch, last in counters.items():
            CustomerSequence.objects.update_or_create(branch_code=branch, defaults={"last": last})
    analyse_started = time.perf_counter()
    if sqlite:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            for table in LOADED_TABLES:
                cur.execute(f'VACUUM (ANALYZE) "{table}"')  # ANALYZE, and the visibility map for index-only scans
            cur.execute("ANALYZE")  # the small tables too (regions, categories, users): the planner needs them
    totals["analyse_seconds"] = time.perf_counter() - analyse_started
    return totals


def check_sample(count: int, size: int = 500) -> None:
    """full_clean() a sample of what was loaded: the model validators must accept the generated values."""
    from guanxi.customers.models import Contact, Customer

    ids = random.Random(1).sample(range(1, count + 1), min(size, count))
    customers = list(Customer.objects.filter(pk__in=ids))
    for customer in customers:
        customer.full_clean(validate_unique=False)
    contacts = list(Contact.objects.filter(customer__in=customers[:500]))
    for contact in contacts:
        contact.full_clean(validate_unique=False, validate_constraints=False)
    print(f"  {len(customers)} customers and {len(contacts)} contacts pass full_clean()")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--customers", type=int, help="override the number of customers of --scale")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database (or file) first")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    url = normalise_database_url(args.database_url)
    count = args.customers or SCALES[args.scale]
    sqlite = is_sqlite(url)
    print(f"Generating {count:,} customers into {url}")
    started = time.perf_counter()
    prepare_database(url, reset=args.reset)
    setup_django(url)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from guanxi.demo import build_demo

    call_command("migrate", interactive=False, verbosity=0)
    if get_user_model().objects.exists():
        from guanxi.customers.models import Customer

        existing = Customer.objects.count()
        if existing == count:
            print(f"The database already holds {existing:,} customers: nothing to do (--reset to generate again).")
            return 0
        print(
            f"The database already has users and {existing:,} customers; run with --reset to start from an empty one.",
            file=sys.stderr,
        )
        return 1
    build_demo(customers=0, password=PASSWORD)
    print(f"  migrated, organisation and users created in {time.perf_counter() - started:.1f} s (password {PASSWORD})")
    totals = bulk_load(count, seed=args.seed, sqlite=sqlite)
    check_sample(totals["customers"])
    elapsed = time.perf_counter() - started
    rows = totals["customers"] + totals["contacts"] + totals["tags"]
    print(
        f"Loaded {totals['customers']:,} customers, {totals['contacts']:,} contacts, {totals['tags']:,} customer tags "
        f"({rows:,} rows)\n"
        f"  load {totals['load_seconds']:.1f} s = {rows / totals['load_seconds']:,.0f} rows/s "
        f"({totals['customers'] / totals['load_seconds']:,.0f} customers/s); "
        f"indexes and constraints {totals['index_seconds']:.1f} s; analyse {totals['analyse_seconds']:.1f} s\n"
        f"  total {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s end to end"
    )
    save_stats(url, count, totals, elapsed)
    return 0


def save_stats(url: str, count: int, totals: dict, elapsed: float) -> None:
    """Remember the figures in bench/data/generate-stats.json; bench/api_bench.py copies them into RESULTS.md."""
    import json

    path = BENCH_DIR / "data" / "generate-stats.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    stats = json.loads(path.read_text()) if path.exists() else {}
    rows = totals["customers"] + totals["contacts"] + totals["tags"]
    stats[url] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python", *sys.argv]),
        "customers": totals["customers"],
        "contacts": totals["contacts"],
        "tags": totals["tags"],
        "load_seconds": round(totals["load_seconds"], 1),
        "load_rows_per_second": round(rows / totals["load_seconds"]),
        "index_seconds": round(totals["index_seconds"], 1),
        "analyse_seconds": round(totals["analyse_seconds"], 1),
        "total_seconds": round(elapsed, 1),
        "total_rows_per_second": round(rows / elapsed),
    }
    path.write_text(json.dumps(stats, indent=2))


if __name__ == "__main__":
    sys.exit(main())
