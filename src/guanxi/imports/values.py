"""Turning spreadsheet cells into field values: text, yes/no, dates and choices written in Chinese or English."""

import re
import unicodedata
from datetime import date, datetime

from django.utils import translation
from django.utils.translation import gettext as _

TRUE_WORDS = {"1", "true", "yes", "y", "t", "是", "对", "有", "√", "✓", "✔"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "否", "不", "不是", "无", "×", "✗", "✘"}
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_HEADER_NOISE = re.compile(r"[\s*＊:：_\-·.]+")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class BadValue(ValueError):
    """A cell that cannot be read as the field's type; the message is for the user."""


def normalise_header(value) -> str:
    """Comparable form of a header: half-width, lower case, without spaces, marks or bracketed notes (手机(必填))."""
    folded = unicodedata.normalize("NFKC", str(value or "")).strip().lower()
    stripped = _BRACKETED.sub("", folded)
    return _HEADER_NOISE.sub("", stripped or folded)


def text(value) -> str:
    """A cell as stripped text. Whole numbers lose the ".0" spreadsheets add (13800138000.0 → 13800138000)."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def word(value) -> str:
    """Text folded for comparing with choice labels: half-width, lower case, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value))).lower()


def boolean(value) -> bool | None:
    folded = word(value)
    if folded == "":
        return None
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise BadValue(_("Enter yes or no (是/否)."))


def a_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    folded = unicodedata.normalize("NFKC", text(value))
    match = _DATE.match(folded) or _COMPACT_DATE.match(folded)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise BadValue(_("Enter a valid date (YYYY-MM-DD)."))


def choice(value, synonyms: dict[str, str]) -> str | None:
    """The choice key that `value` names (by key, label or synonym, folded); None when empty."""
    folded = word(value)
    if folded == "":
        return None
    if folded in synonyms:
        return synonyms[folded]
    chinese = (translation.get_language() or "").startswith("zh")
    shown = sorted({label for label in synonyms if label.isascii() != chinese} or set(synonyms))
    raise BadValue(_("Choose one of: %(choices)s.") % {"choices": ", ".join(shown)})


def synonyms_of(choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Lookup table of a TextChoices: each key, its English label and its Chinese label, plus extra synonyms."""
    table: dict[str, str] = {}
    for key, label in choices.choices:
        table[word(key)] = key
        for language in ("en", "zh-hans"):
            with translation.override(language):
                table[word(str(label))] = key
    for synonym, key in (extra or {}).items():
        table[word(synonym)] = key
    return table


def split_list(value) -> list[str]:
    """Tags and the like: separated by commas, 、, semicolons or line breaks (half- or full-width)."""
    return [part.strip() for part in re.split(r"[,，、;；\n|]", text(value)) if part.strip()]
