"""API authentication: bearer tokens for clients, the session (with CSRF) for the web UI."""

from ninja.security import HttpBearer, SessionAuth

from guanxi.core.middleware import activate_user_language
from guanxi.core.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token
        activate_user_language(request, api_token.user)
        return api_token.user


class Session(SessionAuth):
    """The web UI's session, CSRF-checked, but only when there is a signed-in session: a request with neither a valid
    token nor a session is unauthenticated (401), not a CSRF failure (403)."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


api_auth = [BearerToken(), Session()]
