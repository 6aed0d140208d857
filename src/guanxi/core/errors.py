"""Domain errors that services raise and the API turns into status codes."""

from django.utils.translation import gettext_lazy as _


class StaleVersion(Exception):
    """The record changed since the client read it (optimistic locking): answered with 409."""

    message = _("This record was changed by someone else. Reload it and apply your change again.")

    def __init__(self, current_version: int | None = None):
        super().__init__(str(self.message))
        self.current_version = current_version


class Conflict(Exception):
    """The request conflicts with the record's current state: answered with 409."""
