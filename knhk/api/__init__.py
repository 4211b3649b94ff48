"""Shared REST API plumbing: the one error shape, pagination, strict request serializers."""
