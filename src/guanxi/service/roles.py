"""What each role may do with tickets (merged into the role groups by core.roles.sync_role_groups).

service.manage_ticket lets a lead or manager act on tickets they do not own (reassign, close, reopen, act for an
absent owner); service.configure_service edits ticket types, causes, SLA targets and the holiday calendar.
"""

_VIEW = ["service.view_ticket", "service.view_tickettype", "service.view_holiday", "service.view_slatarget"]
_WORK = _VIEW + ["service.add_ticket", "service.change_ticket"]
_MANAGE = _WORK + ["service.manage_ticket"]
_CONFIGURE = ["service.configure_service"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "executive": list(_VIEW),
    "analyst": list(_VIEW),
    "branch_manager": [*_MANAGE, *_CONFIGURE],
    "team_lead": list(_MANAGE),
    "account_manager": list(_WORK),
    "service_agent": list(_WORK),
}
