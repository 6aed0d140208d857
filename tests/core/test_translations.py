"""Both languages complete: every string in the Chinese catalog is translated and compiled."""

import gettext
from pathlib import Path

import guanxi

LOCALE = Path(guanxi.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries(path: Path) -> dict[tuple[str, str], str]:
    """(msgctxt, msgid) → msgstr of a .po file (enough of the format for Django's makemessages output)."""
    entries, current, key, fuzzy = {}, {"msgctxt": "", "msgid": "", "msgstr": ""}, None, False
    lines = path.read_text(encoding="utf-8").splitlines() + [""]
    for line in lines:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgctxt ", "msgid ", "msgstr ")):
            key, _, rest = line.partition(" ")
            current[key] = rest[1:-1]
        elif line.startswith('"') and key:
            current[key] += line[1:-1]
        elif not line.strip():
            if current["msgid"]:
                entries[(current["msgctxt"], current["msgid"])] = "" if fuzzy else current["msgstr"]
            current, key, fuzzy = {"msgctxt": "", "msgid": "", "msgstr": ""}, None, False
    return entries


def test_it_translates_every_string_into_chinese():
    entries = _po_entries(LOCALE / "django.po")
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []


def test_it_ships_a_compiled_catalog_matching_the_po_file():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    for (context, msgid), msgstr in _po_entries(LOCALE / "django.po").items():
        text = _unescape(msgid)
        found = catalog.pgettext(_unescape(context), text) if context else catalog.gettext(text)
        assert found == _unescape(msgstr)


def _unescape(value: str) -> str:
    return value.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
