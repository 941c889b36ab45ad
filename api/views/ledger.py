"""A client's ledger: its entries with running balances, and manual credits and debits."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from billing.inputs import clean_currency
from billing.models import Client
from billing.services import post_manual_credit, post_manual_debit
from ledger.selectors import client_balance, ledger_entries, with_running_balance
from otb.operations import InvalidInput
from reports.statements import send_statement

from .. import serializers as s
from ..fields import MoneyField
from ..idempotency import idempotent
from .base import IDEMPOTENCY_PARAMETER, ApiViewMixin, validated
from .messages import messages_answer


@extend_schema(tags=["clients"])
class ClientLedgerView(ApiViewMixin, generics.GenericAPIView):
    """A client's ledger, oldest entry first, each with the balance after it."""

    serializer_class = s.LedgerEntrySerializer
    read_permissions = ["billing.view_client", "ledger.view_ledgerentry"]
    write_permissions = {"post": ["billing.view_client", "ledger.add_ledgerentry"]}

    def get_client(self) -> Client:
        return get_object_or_404(Client, code=self.kwargs["code"])

    @extend_schema(
        operation_id="clients_ledger_list",
        responses=s.LedgerPageSerializer,
        parameters=[
            OpenApiParameter(
                "currency",
                str,
                description="The ledger of this currency (default: the client's); a "
                "client's ledger is kept per currency.",
            )
        ],
    )
    def get(self, request, code):
        client = self.get_client()
        given = request.query_params.get("currency")
        currency = clean_currency(given) if given else client.default_currency
        entries = ledger_entries(client, currency)
        page = with_running_balance(client, self.paginate_queryset(entries))
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["currency"] = currency
        response.data["balance"] = MoneyField().to_representation(client_balance(client, currency))
        return response

    @extend_schema(
        operation_id="clients_ledger_create",
        request=s.ManualEntryInputSerializer,
        responses={201: s.LedgerEntrySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request, code):
        client = self.get_client()
        data = dict(validated(s.ManualEntryInputSerializer, request))
        post = post_manual_credit if data.pop("kind") == "credit" else post_manual_debit
        entry = post(client=client, acting_user=request.user, **data)
        entry = with_running_balance(
            client, ledger_entries(client, entry.currency).filter(pk=entry.pk)
        )[0]
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


class ClientStatementSendView(ApiViewMixin, generics.GenericAPIView):
    """E-mail the client's statement for a range, with its PDF, through the outbox: one
    message per recipient, each with that recipient's own link to the statement."""

    serializer_class = s.MessageSerializer
    # The answer is the list of the messages sent, whole: no page of it.
    pagination_class = None
    write_permissions = {"post": ["billing.view_client", "outbox.send_message"]}

    @extend_schema(
        operation_id="clients_statement_send",
        request=s.StatementSendInputSerializer,
        responses={202: s.MessageSerializer(many=True)},
    )
    def post(self, request, code):
        client = get_object_or_404(Client, code=code)
        data = validated(s.StatementSendInputSerializer, request)
        if data["end"] < data["start"]:
            raise InvalidInput.single("end", _("End: must not be before the start."))
        sent = send_statement(
            client=client,
            acting_user=request.user,
            base_url=request.build_absolute_uri("/"),
            **data,
        )
        return Response(
            messages_answer([message.pk for message in sent]), status=status.HTTP_202_ACCEPTED
        )
