from django.urls import path

from guanxi.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("template/<slug:kind>.xlsx", views.import_template, name="template"),
    path("<int:job_id>/", views.import_job, name="job"),
    path("<int:job_id>/progress/", views.import_progress, name="progress"),
    path("<int:job_id>/mapping/", views.import_map, name="map"),
    path("<int:job_id>/commit/", views.import_commit, name="commit"),
    path("<int:job_id>/retry/", views.import_retry, name="retry"),
    path("<int:job_id>/errors.xlsx", views.import_errors_xlsx, name="errors"),
]
