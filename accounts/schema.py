"""OpenAPI (drf-spectacular) security schemes of the audited authentication classes."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class AuditedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.AuditedJWTAuthentication"


class AuditedSessionScheme(SessionScheme):
    target_class = "accounts.authentication.AuditedSessionAuthentication"
