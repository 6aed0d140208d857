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


api_auth = [BearerToken(), SessionAuth()]
