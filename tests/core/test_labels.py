"""core.labels.choice_labels: a Choices class's labels in the active language, built once per language."""

from django.utils import translation

from guanxi.core.labels import choice_labels
from guanxi.service.models import Ticket


def test_labels_follow_the_active_language_and_are_built_once_per_language():
    with translation.override("zh-hans"):
        chinese = choice_labels(Ticket.Status)
    with translation.override("en"):
        english = choice_labels(Ticket.Status)
        assert choice_labels(Ticket.Status) is english  # built once for the language
    assert english["closed"] == "Closed" and chinese["closed"] != "Closed"
    assert set(chinese) == set(english) == set(Ticket.Status.values)
    assert all(isinstance(label, str) for label in chinese.values())  # translated text, not lazy proxies
