from django.urls import include, path

from guanxi.service import (
    agent_urls,
    analysis_views,
    correspondence_urls,
    feedback_urls,
    knowledge_urls,
    sms_views,
    views,
)

app_name = "service"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.ticket_create, name="create"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("<int:ticket_id>/handover/", views.handover_request, name="handover"),
    path("<int:ticket_id>/handover/<str:answer>/", views.handover_answer, name="handover_answer"),
    path("<int:ticket_id>/<str:action>/", views.ticket_action, name="action"),
]

# Return visits, satisfaction surveys, satisfaction/NPS (feedback_urls.py).
urlpatterns += feedback_urls.urlpatterns

# A ticket's thread, its files and the customer's acceptance (correspondence_urls.py).
urlpatterns += correspondence_urls.urlpatterns

# Agent tools on the ticket page: reply-template picker, merge, linked activities (agent_urls.py).
urlpatterns += agent_urls.urlpatterns

# The knowledge base under /service/kb/ ("service:kb:…", knowledge_urls.py).
urlpatterns += [path("kb/", include(knowledge_urls))]

# Complaint analysis (F4): charts, figures and their XLSX and CSV exports (analysis_views.py).
urlpatterns += [
    path("analysis/", analysis_views.analysis_page, name="analysis"),
    path("analysis/export/", analysis_views.analysis_export, name="analysis_export"),
    path("analysis/export.csv", analysis_views.analysis_export, {"fmt": "csv"}, name="analysis_export_csv"),
]

# Outbound text messages, read-only, for service supervisors (sms_views.py).
urlpatterns += [path("sms/", sms_views.sms_list, name="sms")]
