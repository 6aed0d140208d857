"""Demo data: a believable city power-supply company (org, one user per role, customers, contacts).

`guanxi demo` uses build_demo(); bench/generate.py reuses fake_customer_rows() for the same shape at scale.
"""

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker
from stdnum.cn import ric, uscc

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.core.roles import (
    ACCOUNT_MANAGER,
    ADMIN,
    ANALYST,
    BRANCH_MANAGER,
    EXECUTIVE,
    SERVICE_AGENT,
    TEAM_LEAD,
)
from guanxi.core.services import user_create
from guanxi.customers.models import Category, Contact, Customer, Region, Tag
from guanxi.customers.normalize import name_key
from guanxi.customers.numbering import reserve_customer_numbers, series_code

COMPANY = ("GX", "示范市供电公司")
BRANCHES = [("B01", "城东供电分公司"), ("B02", "城西供电分公司"), ("B03", "郊区供电所")]
TEAMS = [("1", "大客户一组"), ("2", "大客户二组"), ("3", "营业服务班")]
TAGS = ["高耗能", "双电源", "重要用户", "光伏并网", "充电桩", "政府机关", "医院", "学校"]
ORG_SUFFIXES = [
    "有限公司",
    "股份有限公司",
    "集团有限公司",
    "钢铁有限公司",
    "化工有限公司",
    "医院",
    "中学",
    "物业管理有限公司",
]


def build_demo(*, customers: int = 2000, password: str = "guanxi-demo", seed: int = 7) -> list[tuple[str, str, str]]:
    """Create the organisation, the users (always admin, am1, am2, lead1, agent1 …) and `customers` customers."""
    with transaction.atomic():
        users = _build_org_and_users(password)
        managers = [u for u, role, _unit in users if role == ACCOUNT_MANAGER]
        _bulk_customers(customers, managers, seed=seed, audit_actor=users[0][0])
    return [(u.username, role, unit) for u, role, unit in users]


def _build_org_and_users(password: str):
    company = OrgUnit.objects.create(code=COMPANY[0], name=COMPANY[1], kind=OrgUnit.Kind.COMPANY)
    users = []

    def add(username, role, unit, name):
        user = user_create(username=username, password=password, role=role, org_unit_code=unit.code, full_name=name)
        users.append((user, role, unit.code))

    fake = Faker("zh_CN")
    fake.seed_instance(11)
    add("admin", ADMIN, company, "系统管理员")
    add("exec1", EXECUTIVE, company, fake.name())
    lead_count = 0
    for index, (code, name) in enumerate(BRANCHES, start=1):
        branch = OrgUnit.objects.create(code=code, name=name, kind=OrgUnit.Kind.BRANCH, parent=company)
        dept = OrgUnit.objects.create(
            code=f"{code}-KF", name="客户服务中心", kind=OrgUnit.Kind.DEPARTMENT, parent=branch
        )
        add(f"bm{index}", BRANCH_MANAGER, branch, fake.name())
        add(f"analyst{index}", ANALYST, branch, fake.name())
        for team_code, team_name in TEAMS:
            team = OrgUnit.objects.create(
                code=f"{code}-T{team_code}", name=team_name, kind=OrgUnit.Kind.TEAM, parent=dept
            )
            if team_code == "3":
                add(f"agent{index}", SERVICE_AGENT, team, fake.name())
                continue
            lead_count += 1
            add(f"lead{lead_count}", TEAM_LEAD, team, fake.name())
            # Branch 1: team 1 gets am1 and am3, team 2 gets am2 and am4 (am1 and am2 in different teams).
            for slot in range(2):
                add(f"am{(index - 1) * 4 + slot * 2 + int(team_code)}", ACCOUNT_MANAGER, team, fake.name())
    return users


def fake_customer_rows(count: int, *, seed: int, regions: list[Region], categories: list[Category]) -> Iterator[dict]:
    """Realistic customer field values (Chinese names, valid credit codes and ID numbers), owners unassigned."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    districts = [r for r in regions if r.level == Region.Level.DISTRICT] or regions
    grades = [Customer.Grade.KEY] * 1 + [Customer.Grade.POTENTIAL] * 3 + [Customer.Grade.GENERAL] * 6
    stages = [s for s, _label in Customer.Stage.choices]
    for index in range(count):
        region = rng.choice(districts)
        individual = rng.random() < 0.3
        row = {
            "kind": Customer.Kind.INDIVIDUAL if individual else Customer.Kind.ORGANISATION,
            "region": region,
            "category": rng.choice(categories) if categories else None,
            "area": rng.choice(["urban", "urban", "rural"]),
            "address": f"{region.name}{fake.street_name()}{rng.randint(1, 999)}号",
            "grade": rng.choice(grades),
            "stage": rng.choice(stages),
            "vip": rng.random() < 0.05,
            "sensitive": rng.random() < 0.01,
        }
        if individual:
            row["name"] = fake.name()
            row["id_number"] = fake_id_number(rng, region.code, index)
            row["credit_code"] = None
        else:
            row["name"] = fake.company_prefix() + fake.company_prefix()[:2] + rng.choice(ORG_SUFFIXES)
            row["credit_code"] = fake_credit_code(rng, region.code, index)
            row["id_number"] = None
        row["contacts"] = [
            {
                "name": fake.name(),
                "role": rng.choice([c for c, _l in Contact.Role.choices]),
                "mobile": f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
                "email": fake.email() if rng.random() < 0.5 else "",
                "primary": n == 0,
            }
            for n in range(1 if individual else rng.choice([1, 2, 3, 4, 5]))
        ]
        yield row


def fake_credit_code(rng: random.Random, region_code: str, serial: int) -> str:
    """A valid 统一社会信用代码: 9 (industry & commerce) 1 (enterprise), region, 9-char org code, check."""
    body = f"91{region_code}{serial % 10**8:08d}{rng.randint(0, 9)}"
    return body + uscc.calc_check_digit(body)


def fake_id_number(rng: random.Random, region_code: str, serial: int) -> str:
    """A valid 身份证号码. stdnum also requires the district code to exist in the birth year, so the birth date is
    drawn again until it fits; a district too new for every draw falls back to 110101 (东城区)."""
    for _attempt in range(30):
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
        number = _with_ric_check(f"{region_code}{birth:%Y%m%d}{serial % 1000:03d}")
        if ric.is_valid(number):
            return number
    return _with_ric_check(f"110101{birth:%Y%m%d}{serial % 1000:03d}")


def _with_ric_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")  # stdnum expects the full 18 characters and ignores the last


def _bulk_customers(count: int, managers: list, *, seed: int, audit_actor) -> None:
    """Bulk path (no per-row services): numbers reserved per branch, then customers, tags, contacts, audit."""
    regions = list(Region.objects.all())
    leaf_categories = [c for c in Category.objects.filter(code__startswith="P-") if not c.children.exists()]
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    units = {m.pk: m.profile.org_unit for m in managers}
    rng = random.Random(seed)
    rows = list(fake_customer_rows(count, seed=seed, regions=regions, categories=leaf_categories))
    objects, contacts = [], []
    used_codes: set[str] = set()
    for row in rows:
        owner = rng.choice(managers)
        for key in ("credit_code", "id_number"):
            if row[key] in used_codes:
                row[key] = None
            elif row[key]:
                used_codes.add(row[key])
        contacts.append(row.pop("contacts"))
        objects.append(
            Customer(
                **row, owner=owner, org_unit=units[owner.pk], created_by=audit_actor, name_key=name_key(row["name"])
            )
        )
    codes = {pk: series_code(unit) for pk, unit in units.items()}  # one branch lookup per manager, not per row
    series: dict[str, list[Customer]] = defaultdict(list)
    for customer in objects:
        series[codes[customer.owner_id]].append(customer)
    for code, members in sorted(series.items()):
        for customer, number in zip(members, reserve_customer_numbers(code, len(members)), strict=True):
            customer.number = number
    Customer.objects.bulk_create(objects, batch_size=1000)
    Contact.objects.bulk_create(
        [Contact(customer=c, **values) for c, rows_ in zip(objects, contacts, strict=True) for values in rows_],
        batch_size=1000,
    )
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=c.pk, tag_id=t.pk) for c in objects if rng.random() < 0.3 for t in rng.sample(tags, 2)],
        batch_size=1000,
        ignore_conflicts=True,
    )
    now = timezone.now()
    AuditLog.objects.bulk_create(
        [
            AuditLog(
                actor=audit_actor,
                at=now,
                action="create",
                object_type="customers.customer",
                object_id=str(c.pk),
                object_repr=str(c)[:200],
                changes={"source": [None, "demo"]},
            )
            for c in objects
        ],
        batch_size=1000,
    )


def database_is_empty() -> bool:
    return not get_user_model().objects.exists()
