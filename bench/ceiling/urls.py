"""The platform's URLs plus POST /api/v1/bench/ceiling (first, so the API's catch-all does not take it)."""

from django.urls import path
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.ceiling.models import CeilingRow
from knhk.urls import urlpatterns as platform_urlpatterns


class CeilingView(APIView):
    """POST any JSON object: one INSERT, 201 with the row id. No authentication, no engine."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        row = CeilingRow.objects.create(payload=request.data)
        return Response({"id": row.id}, status=status.HTTP_201_CREATED)


urlpatterns = [path("api/v1/bench/ceiling", CeilingView.as_view(), name="bench-ceiling"), *platform_urlpatterns]
