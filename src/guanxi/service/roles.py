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

# Knowledge base (F3): every staff role reads published articles; those who answer customers write drafts; leads and
# managers review (approve or reject) drafts written by others.
_KB_READ = ["service.view_article"]
_KB_WRITE = [*_KB_READ, "service.add_article", "service.change_article"]
_KB_REVIEW = [*_KB_WRITE, "service.review_article"]
for _role, _perms in {
    "executive": _KB_READ,
    "analyst": _KB_READ,
    "branch_manager": _KB_REVIEW,
    "team_lead": _KB_REVIEW,
    "account_manager": _KB_WRITE,
    "service_agent": _KB_WRITE,
}.items():
    ROLE_PERMISSIONS[_role].extend(_perms)
