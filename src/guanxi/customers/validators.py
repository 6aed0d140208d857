"""Validators for Chinese identifiers and phone numbers. Checksums come from python-stdnum (GB 32100, GB 11643)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$|^[1-9]\d{4}$")  # 0452-2345678, 95598


def normalize_credit_code(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def normalize_mobile(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters, GB 32100-2015 check character."""
    try:
        uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Not a valid unified social credit code (18 characters with a check character)."),
            code="invalid_credit_code",
        ) from exc


def validate_id_number(value: str) -> None:
    """居民身份证号码: 18 characters, GB 11643-1999 check character, a real birth date, a known place code.

    stdnum also insists the place code existed in the birth year; numbers issued or re-issued after a district was
    renamed carry the newer code with an older birth date (a 1980 birth in 昌平区, code 110114 since 1999), so any
    period of the code is accepted here.
    """
    try:
        try:
            ric.validate(value)
        except InvalidComponent:
            ric.get_birth_date(value)  # re-raises for a bad date; only the place's period is forgiven
            if not any(props for _part, props in numdb.get("cn/loc").info(ric.compact(value)[:6])[1:]):
                raise
    except StdnumError as exc:
        raise ValidationError(
            _("Not a valid resident ID number (18 characters with a check character)."), code="invalid_id_number"
        ) from exc


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(value):
        raise ValidationError(
            _("Not a valid mainland mobile number (11 digits starting with 1)."), code="invalid_mobile"
        )


def validate_landline(value: str) -> None:
    if not LANDLINE_RE.match(value):
        raise ValidationError(_("Not a valid landline number (e.g. 0452-2345678)."), code="invalid_landline")
