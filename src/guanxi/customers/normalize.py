"""Name normalisation for duplicate detection: the same company written differently gets the same key."""

import re
import unicodedata

# Legal-form words that vary between records of one company (longest first, so 有限责任公司 wins over 有限公司).
LEGAL_FORMS = ["股份有限公司", "有限责任公司", "有限公司", "集团公司", "股份公司", "公司", "集团", "股份"]
_BRACKETS = re.compile(r"[()（）\[\]【】〔〕<>《》]")
_SPACES = re.compile(r"[\s·・.,，、\-_/]+")


def name_key(name: str) -> str:
    """Full-width → half-width (NFKC), lower case, brackets, spaces and punctuation dropped, legal forms removed."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _BRACKETS.sub("", text)
    text = _SPACES.sub("", text)
    for form in LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            text = text[: -len(form)]
            break
    return text[:200]
