"""What each role may do with this app's models (merged into the role groups by core.roles.sync_role_groups)."""

ROLE_PERMISSIONS: dict[str, list[str]] = {}
