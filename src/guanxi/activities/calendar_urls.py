"""URLs of the calendar, visit plans, work reports and notices; included by activities/urls.py."""

from django.urls import path

from guanxi.activities import calendar_views, notification_views, report_views, visit_views

urlpatterns = [
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/move/", calendar_views.calendar_move, name="calendar_move"),
    path("calendar/feed/", calendar_views.calendar_feed_manage, name="calendar_feed_manage"),
    path("calendar/reminders/", calendar_views.reminder_preference, name="reminder_preference"),
    path("calendar/<str:token>.ics", calendar_views.calendar_feed, name="calendar_feed"),
    path("<int:activity_id>/ics/", calendar_views.activity_ics, name="activity_ics"),
    path("notifications/", calendar_views.notifications, name="notifications"),
    path("notifications/<int:notification_id>/read/", calendar_views.notification_read, name="notification_read"),
    path("notifications/read-all/", calendar_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/all/", notification_views.notification_list_page, name="notification_list"),
    path("notifications/settings/", notification_views.notification_preferences, name="notification_preferences"),
    path("visit-plans/", visit_views.visit_plan_page, name="visit_plans"),
    path("visit-plans/rules/", visit_views.visit_rule_save, name="visit_rule_save"),
    path("reports/", report_views.report_list_page, name="reports"),
    path("reports/new/", report_views.report_create, name="report_create"),
    path("reports/export/", report_views.report_export, name="report_export"),
    path("reports/<int:report_id>/", report_views.report_detail, name="report_detail"),
]
