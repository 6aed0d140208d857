from django.urls import path

from floor import service
from floor.api import api

urlpatterns = [path("api/", api.urls), path("api/service/", service.api.urls)]
