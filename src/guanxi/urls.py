from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from guanxi.api import api

urlpatterns = [
    path("", TemplateView.as_view(template_name="core/home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
