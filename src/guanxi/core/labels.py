"""Choice labels in the active language, translated once per process and language.

Rows read as values() carry choice values, not labels; translating a Choices class's lazy labels for every row or page
was a noticeable share of the 360 view's panels, the timeline sources and the ticket list. The catalogs do not change
while a process runs, so each language's labels are built once. Callers only read the dict returned.
"""

from functools import cache

from django.db.models import Choices
from django.utils import translation


def choice_labels(choices: type[Choices]) -> dict:
    """{value: label} of a Choices class in the active language."""
    return _labels(choices, translation.get_language())


@cache
def _labels(choices: type[Choices], language: str | None) -> dict:
    return {value: str(label) for value, label in choices.choices}
