from django.urls import path

from guanxi.activities import calendar_urls, views

app_name = "activities"

urlpatterns: list = [
    path("", views.home, name="home"),
    path("new/", views.activity_create, name="create"),
    path("<int:activity_id>/", views.activity_detail, name="detail"),
    path("<int:activity_id>/edit/", views.activity_edit, name="edit"),
    path("<int:activity_id>/complete/", views.activity_complete, name="complete"),
    path("<int:activity_id>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:activity_id>/delete/", views.activity_delete, name="delete"),
    path("customers/<int:customer_id>/timeline/", views.customer_timeline, name="timeline"),
    path("pops/", views.screen_pops, name="screen_pops"),
    path("pops/<int:phone_call_id>/dismiss/", views.screen_pop_dismiss, name="screen_pop_dismiss"),
]
urlpatterns += calendar_urls.urlpatterns  # calendar, visit plans, work reports, notices
