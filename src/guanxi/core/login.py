"""The web login: Django's LoginView with the same throttling as the token endpoint (core.throttle)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed attempts. Try again in %(minutes)s minutes."),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = self.request.META.get("REMOTE_ADDR") if self.request is not None else None
        try:
            throttle.check(username=username, ip=ip)
        except throttle.TooManyAttempts as exc:
            self.throttled = True
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": max(1, exc.retry_after // 60)}
            ) from exc
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                throttle.failed(username=username, ip=ip)
            raise
        throttle.succeeded(username=username)
        return cleaned


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = False

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
        return response
