"""Both languages complete: every string in every Chinese catalog is translated and compiled.

The project catalog (src/guanxi/locale) holds core and the first apps; later apps keep their own catalog in
`<app>/locale`, which makemessages fills when run from the app's directory and Django loads for installed apps.
"""

import gettext
from pathlib import Path

import pytest

import guanxi

SOURCE = Path(guanxi.__file__).parent
LOCALE = SOURCE / "locale" / "zh_Hans" / "LC_MESSAGES"
CATALOGS = sorted(SOURCE.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _po_entries(path: Path) -> dict[tuple[str, str, str], str]:
    """(msgctxt, msgid, msgid_plural) → msgstr (msgstr[0] for a plural: Chinese has one form) of a .po file.

    Enough of the format for Django's makemessages output; a fuzzy entry counts as untranslated.
    """
    empty = {"msgctxt": "", "msgid": "", "msgid_plural": "", "msgstr": "", "msgstr[0]": ""}
    entries, current, key, fuzzy = {}, dict(empty), None, False
    lines = path.read_text(encoding="utf-8").splitlines() + [""]
    for line in lines:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr ", "msgstr[")):
            key, _, rest = line.partition(" ")
            current[key] = rest[1:-1]
        elif line.startswith('"') and key:
            current[key] += line[1:-1]
        elif not line.strip():
            if current["msgid"]:
                msgstr = current["msgstr[0]"] if current["msgid_plural"] else current["msgstr"]
                entries[(current["msgctxt"], current["msgid"], current["msgid_plural"])] = "" if fuzzy else msgstr
            current, key, fuzzy = dict(empty), None, False
    return entries


def test_the_project_catalog_is_the_big_one():
    assert len(_po_entries(LOCALE / "django.po")) > 100


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: str(po.relative_to(SOURCE)))
def test_it_translates_every_string_into_chinese(po):
    entries = _po_entries(po)
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: str(po.relative_to(SOURCE)))
def test_it_ships_a_compiled_catalog_matching_the_po_file(po):
    with po.with_suffix(".mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    for (context, msgid, plural), msgstr in _po_entries(po).items():
        text = _unescape(msgid)
        if plural and context:
            found = catalog.npgettext(_unescape(context), text, _unescape(plural), 1)
        elif plural:
            found = catalog.ngettext(text, _unescape(plural), 1)
        else:
            found = catalog.pgettext(_unescape(context), text) if context else catalog.gettext(text)
        assert found == _unescape(msgstr)


def _unescape(value: str) -> str:
    return value.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def test_one_msgid_has_one_translation_across_all_catalogs():
    """Django merges every catalog of a language into one, so a msgid (with its context) translated differently in two
    catalogs shows one app's word in the other; a meaning that differs by app needs its own context (pgettext)."""
    translations: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for po in CATALOGS:
        for key, msgstr in _po_entries(po).items():
            if msgstr:
                translations.setdefault(key, {}).setdefault(msgstr, []).append(str(po.relative_to(SOURCE)))
    conflicts = {key: found for key, found in translations.items() if len(found) > 1}
    assert conflicts == {}
