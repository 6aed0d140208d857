"""Pages of a ticket's thread and the complaint flow (included by service/urls.py)."""

from django.urls import path

from guanxi.service import correspondence_views

urlpatterns = [
    path("thread/<int:ticket_id>/", correspondence_views.ticket_thread, name="thread"),
    path("thread/<int:ticket_id>/acceptance/", correspondence_views.ticket_acceptance, name="acceptance"),
    path(
        "thread/<int:ticket_id>/files/<int:attachment_id>/",
        correspondence_views.message_attachment,
        name="message_attachment",
    ),
]
