"""Pages of return visits, satisfaction surveys and satisfaction/NPS (included by service/urls.py)."""

from django.urls import path

from guanxi.service import feedback_views

urlpatterns = [
    path("return-visits/", feedback_views.visit_queue, name="return_visits"),
    path("return-visits/ticket/<int:ticket_id>/", feedback_views.ticket_visits, name="ticket_return_visits"),
    path("return-visits/<int:visit_id>/record/", feedback_views.visit_record, name="return_visit_record"),
    path("surveys/", feedback_views.survey_list, name="surveys"),
    path("surveys/<int:survey_id>/", feedback_views.survey_detail, name="survey"),
    path("surveys/<int:survey_id>/<str:action>/", feedback_views.survey_action, name="survey_action"),
    path("survey-invitations/<int:invitation_id>/answer/", feedback_views.invitation_answer, name="survey_answer"),
    path("satisfaction/", feedback_views.satisfaction_page, name="satisfaction"),
]
