"""Masking of personal data for roles without core.view_sensitive_fields (e.g. 138****1234)."""


def sees_sensitive_fields(user) -> bool:
    cached = getattr(user, "_guanxi_sees_fields", None)
    if cached is None:
        cached = user.is_authenticated and user.has_perm("core.view_sensitive_fields")
        user._guanxi_sees_fields = cached
    return cached


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits of a mobile (180****1999); landlines keep their last 4."""
    if not value:
        return value
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_id_number(value: str) -> str:
    """Keep the first character and the last two (1****************2X)."""
    if not value or len(value) <= 3:
        return value
    return value[0] + "*" * (len(value) - 3) + value[-2:]


def phone_for(user, value: str) -> str:
    return value if sees_sensitive_fields(user) else mask_phone(value)


def id_number_for(user, value: str) -> str:
    return value if sees_sensitive_fields(user) else mask_id_number(value)


PHONE_FIELDS = {"mobile", "landline", "phone"}
ID_FIELDS = {"id_number"}


def changes_for(user, changes: dict) -> dict:
    """Audit changes ({field: [before, after]}) with phones and ID numbers masked for users who see them masked."""
    if sees_sensitive_fields(user):
        return changes
    masked = {}
    for field, values in changes.items():
        if field in PHONE_FIELDS or field in ID_FIELDS:
            mask = mask_phone if field in PHONE_FIELDS else mask_id_number
            values = [mask(v) if isinstance(v, str) else v for v in values] if isinstance(values, list) else values
        masked[field] = values
    return masked
