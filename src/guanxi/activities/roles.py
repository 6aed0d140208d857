"""What each role may do with this app's models (merged into the role groups by core.roles.sync_role_groups).

activities.post_telephony_events goes to no role: it is granted to the phone system's own account (docs/activities.md).
"""

_VIEW = ["activities.view_activity"]
_WRITE = _VIEW + ["activities.add_activity", "activities.change_activity"]
_MANAGE = _WRITE + ["activities.delete_activity"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "executive": _VIEW,
    "analyst": _VIEW,
    "branch_manager": _MANAGE,
    "team_lead": _MANAGE,
    "account_manager": _WRITE,
    "service_agent": _WRITE,
}

# Work reports and visit rules (reports.py, visits.py). Added per role without touching the lists above (two roles
# share one list object there).
_REPORT = ["activities.view_workreport", "activities.add_workreport", "activities.change_workreport"]
_REVIEW = [*_REPORT, "activities.review_workreport"]
_RULES = ["activities.add_visitrule", "activities.change_visitrule", "activities.delete_visitrule"]
for _role, _perms in {
    "executive": ["activities.view_workreport", "activities.view_visitrule"],
    "analyst": ["activities.view_visitrule"],
    "branch_manager": [*_REVIEW, "activities.view_visitrule", *_RULES],
    "team_lead": [*_REVIEW, "activities.view_visitrule"],
    "account_manager": [*_REPORT, "activities.view_visitrule"],
    "service_agent": _REPORT,
}.items():
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS.get(_role, []), *_perms]
