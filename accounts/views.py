"""JWT token endpoints (failed logins audited) and per-workflow grants."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import rights
from accounts.permissions import ApiAccess
from accounts.serializers import (
    GrantListSerializer,
    GrantSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from accounts.services import grant_right, revoke_right
from knhk.api.serializers import without_format


class TokenObtainView(TokenObtainPairView):
    """`POST {"username", "password"}` -> `{"access", "refresh"}`; a wrong password is audited
    (`auth.login_failed`, through Django's user_login_failed signal); an unknown field is a 400."""

    serializer_class = TokenObtainPairSerializer


class TokenRefresh(TokenRefreshView):
    """`POST {"refresh"}` -> `{"access"}`; an unknown field is a 400."""

    serializer_class = TokenRefreshSerializer


def _spec_exists(spec_id: str) -> bool:
    from workflows.models import WorkflowSpec

    return WorkflowSpec.objects.filter(spec_id=spec_id).exists()


class WorkflowPermissionsView(APIView):
    """Rights on one workflow: list (GET), grant (POST), revoke (DELETE); needs the 'admin' right."""

    permission_classes = [ApiAccess]

    def _check(self, request: Request, spec_id: str, doing: str) -> None:
        rights.require_right(request.user, "admin", spec_id, doing)
        if not _spec_exists(spec_id):
            raise NotFound(f"No workflow {spec_id!r}.")

    @extend_schema(responses=GrantListSerializer)
    def get(self, request: Request, spec_id: str) -> Response:
        self._check(request, spec_id, "see the rights on this workflow")
        return Response({"spec_id": spec_id, "grants": rights.grants(spec_id)})

    @extend_schema(request=GrantSerializer, responses=GrantListSerializer)
    def post(self, request: Request, spec_id: str) -> Response:
        self._check(request, spec_id, "grant rights on this workflow")
        serializer = GrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changed = grant_right(request.user, spec_id, data["right"], data["holder"])
        return Response({"spec_id": spec_id, "grants": rights.grants(spec_id)},
                        status=status.HTTP_201_CREATED if changed else status.HTTP_200_OK)

    @extend_schema(request=GrantSerializer, responses=GrantListSerializer)
    def delete(self, request: Request, spec_id: str) -> Response:
        self._check(request, spec_id, "revoke rights on this workflow")
        serializer = GrantSerializer(data=request.data or without_format(request.query_params))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        revoke_right(request.user, spec_id, data["right"], data["holder"])
        return Response({"spec_id": spec_id, "grants": rights.grants(spec_id)})
