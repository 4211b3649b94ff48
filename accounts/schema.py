"""OpenAPI (drf-spectacular) security schemes of the audited authentication classes, and simplejwt's
token shapes for the strict token serializers."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)


class AuditedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.AuditedJWTAuthentication"


class AuditedSessionScheme(SessionScheme):
    target_class = "accounts.authentication.AuditedSessionAuthentication"


class StrictTokenObtainPairScheme(TokenObtainPairSerializerExtension):
    target_class = "accounts.serializers.TokenObtainPairSerializer"


class StrictTokenRefreshScheme(TokenRefreshSerializerExtension):
    target_class = "accounts.serializers.TokenRefreshSerializer"
