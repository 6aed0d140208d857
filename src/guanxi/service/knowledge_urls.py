"""The knowledge base pages, included by service/urls.py under /service/kb/ (names "service:kb:…")."""

from django.urls import path

from guanxi.service import knowledge_views as views

app_name = "kb"

urlpatterns = [
    path("", views.kb_home, name="home"),
    path("new/", views.kb_edit, name="create"),
    path("suggest/", views.kb_suggest, name="suggest"),
    path("ticket/<int:ticket_id>/", views.ticket_box, name="ticket_box"),
    path("ticket/<int:ticket_id>/<int:article_id>/<str:action>/", views.ticket_box_action, name="ticket_box_action"),
    path("<int:article_id>/", views.kb_detail, name="detail"),
    path("<int:article_id>/edit/", views.kb_edit, name="edit"),
    path("<int:article_id>/diff/", views.kb_diff, name="diff"),
    path("<int:article_id>/v<int:number>/", views.kb_version, name="version"),
    path("<int:article_id>/<str:action>/", views.kb_review, name="review"),
]
