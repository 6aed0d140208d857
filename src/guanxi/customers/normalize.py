"""Name normalisation for duplicate detection: the same company written differently gets the same key.

The rules (deterministic; docs/duplicates.md lists them with examples):

1. Unicode NFKC, so full-width letters, digits and brackets become half-width (ＡＢＣ（北京） → ABC(北京));
   then case-folded (ABC → abc).
2. Brackets and separators are dropped but what they hold is kept:
   齐齐哈尔钢铁（集团）有限公司 → 齐齐哈尔钢铁集团有限公司.
   Separators are white space and the punctuation of names: · ・ . , ， 、 - _ / & ' "
3. English legal forms at the end are dropped as whole words, repeatedly: "ABC Trading Co., Ltd." → abctrading.
4. Chinese legal forms at the end are dropped, repeatedly, longest first:
   股份有限公司, 有限责任公司, 有限公司, 集团公司, 股份公司, 公司, 集团, 股份 —
   so 钢铁集团有限公司, 钢铁有限责任公司 and 钢铁股份 all end as 钢铁.
   A name ending in 分公司 keeps it (a branch is a customer of its own),
   and a key is never stripped to nothing (公司 stays 公司).

Changing these rules changes stored keys: run `guanxi rebuild_name_keys` after an upgrade that does.
"""

import re
import unicodedata

# Longest first, so 有限责任公司 wins over 有限公司 and 公司.
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "股份公司", "公司", "集团", "股份")
# Kept even though it ends in 公司: 某某公司北京分公司 is a branch, not the head office.
BRANCH_SUFFIX = "分公司"
ENGLISH_LEGAL_FORMS = frozenset(
    {"co", "corp", "corporation", "company", "inc", "incorporated", "ltd", "limited", "llc", "plc", "gmbh", "group"}
)
_BRACKETS = re.compile(r"[()\[\]{}<>【】〔〕《》〈〉「」『』]")
_SEPARATORS = re.compile(r"[\s·・.,，、\-_/&'\"]+")


def name_key(name: str) -> str:
    """The normalised name: customers whose keys are equal are duplicate candidates ("same normalised name")."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _BRACKETS.sub(" ", text)
    words = [word for word in _SEPARATORS.split(text) if word]
    while len(words) > 1 and words[-1] in ENGLISH_LEGAL_FORMS:
        words.pop()
    text = "".join(words)
    stripped = True
    while stripped and not text.endswith(BRANCH_SUFFIX):
        stripped = False
        for form in LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                stripped = True
                break
    return text[:200]
