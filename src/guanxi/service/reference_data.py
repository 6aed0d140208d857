"""Reference data of the service module: the six ticket types (emergency repair 24×7), sub-types and causes users
know, an SLA target for every type × priority × grade, and the statutory holiday calendar from `chinesecalendar`
(through 2026; admins add later years by hand, see docs/service.md).

Loaded by migration 0002_seed; tests that flush the tables (transactional tests) load it again with `seed(apps)`.
"""

TYPES = [
    # code, 24×7, sub-types, causes
    ("consultation", False, ["电费电价", "业务办理", "停电信息", "用电政策"], ["客户不了解政策", "信息发布不及时"]),
    (
        "complaint",
        False,
        ["服务态度", "电费争议", "停电问题", "业扩报装", "计量问题"],
        ["工作人员服务不规范", "抄表核算差错", "计划停电未通知", "办电时限超期", "电能表故障"],
    ),
    ("suggestion", False, ["服务改进", "渠道建议"], ["客户合理诉求"]),
    ("technical_support", False, ["用电安全", "电能质量", "节能咨询"], ["客户设备问题", "电压质量问题"]),
    ("fault_report", False, ["低压故障", "高压故障", "计量装置故障"], ["线路故障", "设备老化", "外力破坏"]),
    (
        "emergency_repair",
        True,
        ["单户停电", "多户停电", "线路断线", "设备着火"],
        ["线路故障", "设备老化", "外力破坏", "天气原因"],
    ),
]
GENERAL_CAUSES = ["客户原因", "其他"]

# (response, resolution) minutes of the type's clock for normal priority and general customers.
BASE = {
    "consultation": (60, 480),  # answered within the hour, closed within a working day
    "complaint": (60, 2880),  # acknowledged within the hour, settled within 6 working days
    "suggestion": (240, 4800),
    "technical_support": (120, 1440),
    "fault_report": (60, 960),
    "emergency_repair": (45, 240),  # 24×7: on site within 45 minutes, restored within 4 hours
}
PRIORITY = {"low": 1.5, "normal": 1.0, "high": 0.5, "urgent": 0.25}
GRADE = {"key": 0.5, "potential": 0.75, "general": 1.0}  # B4: key customers are served faster


def seed(apps) -> None:
    """Load the reference data through `apps` (a migration's historical registry or django.apps.apps)."""
    TicketType = apps.get_model("service", "TicketType")
    TicketSubType = apps.get_model("service", "TicketSubType")
    TicketCause = apps.get_model("service", "TicketCause")
    SlaTarget = apps.get_model("service", "SlaTarget")
    Holiday = apps.get_model("service", "Holiday")
    for order, (code, around, sub_types, causes) in enumerate(TYPES):
        ticket_type = TicketType.objects.create(code=code, around_the_clock=around, order=order)
        TicketSubType.objects.bulk_create(
            [TicketSubType(ticket_type=ticket_type, name=name, order=i) for i, name in enumerate(sub_types)]
        )
        TicketCause.objects.bulk_create(
            [TicketCause(ticket_type=ticket_type, name=name, order=i) for i, name in enumerate(causes)]
        )
    TicketCause.objects.bulk_create([TicketCause(name=name, order=100 + i) for i, name in enumerate(GENERAL_CAUSES)])
    targets = []
    for code, (response, resolution) in BASE.items():
        for priority, p_factor in PRIORITY.items():
            for grade, g_factor in GRADE.items():
                r = max(10, round(response * p_factor * g_factor))
                targets.append(
                    SlaTarget(
                        ticket_type=code,
                        priority=priority,
                        grade=grade,
                        response_minutes=r,
                        resolution_minutes=max(r, round(resolution * p_factor * g_factor)),
                    )
                )
    SlaTarget.objects.bulk_create(targets)
    try:
        import chinese_calendar
    except ImportError:  # the dependency is declared; without it the calendar starts empty and admins fill it
        return
    days = [
        Holiday(date=day, kind="off", name=str(getattr(name, "value", name) or ""))
        for day, name in chinese_calendar.holidays.items()
    ]
    days += [
        Holiday(date=day, kind="workday", name=str(getattr(name, "value", name) or ""))
        for day, name in chinese_calendar.workdays.items()
    ]
    Holiday.objects.bulk_create(days, batch_size=500)


def unseed(apps) -> None:
    for model in ("Holiday", "SlaTarget", "TicketCause", "TicketSubType", "TicketType"):
        apps.get_model("service", model).objects.all().delete()
