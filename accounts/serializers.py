"""Input of the grant/revoke endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers

from accounts.rights import RIGHTS
from knhk.api.serializers import RejectUnknownFields, StrictSerializer


class GrantSerializer(StrictSerializer):
    """`{"user": "alice", "right": "start"}` or `{"group": "operator", "right": "view"}`; another field is a 400."""

    user = serializers.CharField(required=False, max_length=150)
    group = serializers.CharField(required=False, max_length=150)
    right = serializers.ChoiceField(choices=RIGHTS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == ("group" in attrs):
            raise serializers.ValidationError("Give exactly one of 'user' or 'group'.")
        if "user" in attrs:
            user = get_user_model().objects.filter(username=attrs["user"]).first()
            if user is None:
                raise serializers.ValidationError({"user": f"No user {attrs['user']!r}."})
            attrs["holder"] = {"user": user}
        else:
            group = Group.objects.filter(name=attrs["group"]).first()
            if group is None:
                raise serializers.ValidationError({"group": f"No group {attrs['group']!r}."})
            attrs["holder"] = {"group": group}
        return attrs


class GrantListSerializer(serializers.Serializer):
    spec_id = serializers.CharField()
    grants = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenObtainPairSerializer(RejectUnknownFields, jwt_serializers.TokenObtainPairSerializer):
    """simplejwt's `{"username", "password"}`; any other field is a 400 naming it."""


class TokenRefreshSerializer(RejectUnknownFields, jwt_serializers.TokenRefreshSerializer):
    """simplejwt's `{"refresh"}`; any other field (`access` too) is a 400 naming it."""
