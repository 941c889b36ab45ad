"""The outbox: every e-mail sent or tried, with its delivery attempts."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets

from outbox.models import Message

from .. import serializers as s
from .base import ApiViewMixin, query_bool

MESSAGE_FILTERS = [
    OpenApiParameter(
        "invoice", OpenApiTypes.STR, description="The whole number of the invoice, any case."
    ),
    OpenApiParameter("needs_attention", OpenApiTypes.BOOL),
]


def message_with_attempts():
    return Message.objects.select_related("invoice", "quote", "attachment").prefetch_related(
        "attempts"
    )


def message_answer(message_id: int) -> dict:
    """An e-mail as it is now, read again: its delivery goes on after the request wrote it."""
    return s.MessageSerializer(message_with_attempts().get(pk=message_id)).data


def messages_answer(message_ids: int | list[int]) -> list:
    """``message_answer`` of several e-mails, in the order they were queued (one id: a key
    kept before a send became one message per recipient)."""
    ids = message_ids if isinstance(message_ids, list) else [message_ids]
    found = message_with_attempts().filter(pk__in=ids).order_by("pk")
    return list(s.MessageSerializer(found, many=True).data)


@extend_schema(tags=["e-mail"])
class MessageViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The outbox: every e-mail sent or tried, newest first, with its delivery attempts."""

    serializer_class = s.MessageSerializer
    read_permissions = ["outbox.view_message"]

    def get_queryset(self):
        return message_with_attempts().order_by("-created_at", "-id")

    def filter_queryset(self, queryset):
        number = self.request.query_params.get("invoice", "").strip()
        if number:
            queryset = queryset.filter(invoice__number__iexact=number)
        attention = query_bool(self.request, "needs_attention")
        if attention is not None:
            queryset = queryset.filter(needs_attention=attention)
        return queryset

    @extend_schema(parameters=MESSAGE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
