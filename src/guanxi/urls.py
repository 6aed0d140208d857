from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from guanxi.api import api
from guanxi.core import login as login_views
from guanxi.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", login_views.LoginView.as_view(), name="login"),  # throttled (core.login)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("language/", core_views.language, name="language"),
    path("search/", core_views.search_page, name="search"),
    path("", include("guanxi.customers.urls")),
    path("imports/", include("guanxi.imports.urls")),
    path("activities/", include("guanxi.activities.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("service/", include("guanxi.service.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler500 = "guanxi.core.db_errors.server_error"  # a database outage answers 503 (core.db_errors)
