from django.utils import translation

from guanxi.core.context import client_ip


class RequestContextMiddleware:
    """Records the client IP for the audit log and applies the signed-in user's language preference."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                activate_user_language(request, user)
            return self.get_response(request)
        finally:
            client_ip.reset(token)


def activate_user_language(request, user) -> None:
    """A user's saved language beats the browser's Accept-Language."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.language:
        translation.activate(profile.language)
        request.LANGUAGE_CODE = translation.get_language()
