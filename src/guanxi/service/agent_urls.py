"""The agent tools' page URLs under /service/tools/<ticket>/ (agent_views.py); kept out of the "<id>/<action>/" shape
of the ticket actions in urls.py."""

from django.urls import path

from guanxi.service import agent_views

urlpatterns = [
    path("tools/<int:ticket_id>/", agent_views.agent_tools, name="agent_tools"),
    path("tools/<int:ticket_id>/merge/", agent_views.merge, name="merge"),
    path("tools/<int:ticket_id>/follow-up/", agent_views.follow_up, name="follow_up"),
]
