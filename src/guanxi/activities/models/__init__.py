"""activities models; each module owns one part of the domain and is imported here so Django finds it."""

from guanxi.activities.models.activity import Activity  # noqa: F401
from guanxi.activities.models.planning import (  # noqa: F401
    ActivityReminder,
    CalendarFeed,
    Notification,
    NotificationPreference,
    ReminderDelivery,
    VisitRule,
    WorkReport,
)
from guanxi.activities.models.telephony import PhoneCall  # noqa: F401
