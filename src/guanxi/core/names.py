"""People's names as lists show them, from the user columns a values() row joined in (no User instances)."""


def full_name(username: str | None, first_name: str | None, last_name: str | None) -> str | None:
    """User.get_full_name() ("first last", stripped), else the username; None when the row has no user (a null
    foreign key joined in gives None in all three columns)."""
    if username is None:
        return None
    return f"{first_name} {last_name}".strip() or username
