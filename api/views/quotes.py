"""Quotes (SPEC: Quotes): drafts addressed by id, sent ones by number; their lifecycle
through the same operations as the office pages (quotes.services), their PDF, and the
conversion into one draft invoice."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.inputs import clean_currency
from billing.models import Invoice, InvoiceLine
from quotes import document, sending
from quotes import services as quotes
from quotes.models import Quote, QuoteLine, QuoteState
from quotes.selectors import filter_quotes
from settings_app.selectors import business_today

from .. import serializers as s
from ..idempotency import idempotent
from .base import (
    IDEMPOTENCY_PARAMETER,
    PDF_RENDERERS,
    PDF_RESPONSES,
    ApiViewMixin,
    client_by_code,
    links_answer,
    object_by_ref,
    pdf_download,
    revoke_link_answer,
    validated,
)
from .invoices import _lines
from .messages import message_with_attempts

QUOTE_FILTERS = [
    OpenApiParameter(
        "state",
        OpenApiTypes.STR,
        enum=QuoteState.values,
        description="The state the quote shows: a sent quote not answered whose valid_until "
        "is before today is expired (and no longer sent).",
    ),
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case."),
    OpenApiParameter("currency", OpenApiTypes.STR, description="A currency code, any case."),
]
QUOTE_REF = OpenApiParameter(
    "ref",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The quote's number once sent (Q-0001), else its id.",
)
LINK_ID = OpenApiParameter(
    "link_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The link's id."
)


@extend_schema(tags=["quotes"])
class QuoteViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Quotes. Sent ones are addressed by number (``Q-0001``), drafts by id."""

    serializer_class = s.QuoteSerializer
    lookup_field = "ref"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_permissions = ["quotes.view_quote"]
    write_permissions = {
        "create": ["quotes.add_quote"],
        "partial_update": ["quotes.change_quote"],
        "destroy": ["quotes.delete_quote"],
        "mark_sent": ["quotes.send_quote"],
        "withdraw": ["quotes.send_quote"],
        "answer": ["quotes.answer_quote"],
        "convert": ["quotes.convert_quote", "billing.add_invoice"],
        "duplicate": ["quotes.add_quote"],
        "send": ["quotes.send_quote", "outbox.send_message"],
        "revoke_link": ["quotes.send_quote", "links.change_documentlink"],
    }

    @cached_property
    def today(self) -> datetime.date:
        return business_today()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": self.today}

    def get_queryset(self) -> QuerySet[Quote]:
        return Quote.objects.select_related(
            "client", "invoice", "answer", "answer__recorded_by"
        ).prefetch_related(
            Prefetch("lines", queryset=QuoteLine.objects.select_related("service")), "taxes"
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        params = self.request.query_params
        queryset = filter_quotes(
            queryset,
            today=self.today,
            state=params.get("state", ""),
            client=params.get("client", ""),
        )
        if params.get("currency", "").strip():
            queryset = queryset.filter(currency=clean_currency(params["currency"]))
        return queryset.order_by("-created_at", "-id")

    def get_object(self) -> Quote:
        return object_by_ref(self.get_queryset(), self.kwargs["ref"], what=_("quote"))

    def _answer(self, quote: Quote, status_code=status.HTTP_200_OK) -> Response:
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(self.get_serializer(quote).data, status=status_code)

    @extend_schema(parameters=QUOTE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[QUOTE_REF])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.QuoteInputSerializer,
        responses={201: s.QuoteSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        """A draft quote; it has no number until it is sent."""
        data = dict(validated(s.QuoteInputSerializer, request))
        client = client_by_code(data.pop("client"))
        lines = _lines(data.pop("lines"))
        quote = quotes.create_quote(client=client, lines=lines, acting_user=request.user, **data)
        return self._answer(quote, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.QuoteInputSerializer, responses=s.QuoteSerializer, parameters=[QUOTE_REF]
    )
    def partial_update(self, request, ref):
        """Change a draft, or a sent quote not yet answered (each change of a sent quote is
        recorded); an accepted, declined or withdrawn quote never changes."""
        quote = self.get_object()
        data = dict(validated(s.QuoteInputSerializer, request, partial=True))
        if "client" in data:
            data["client"] = client_by_code(data["client"])
        if "lines" in data:
            data["lines"] = _lines(data["lines"])
        quote = quotes.update_quote(quote=quote, acting_user=request.user, **data)
        return self._answer(quote)

    @extend_schema(responses={204: None}, parameters=[QUOTE_REF])
    def destroy(self, request, ref):
        """Delete a draft; a sent quote keeps its number and is withdrawn instead."""
        quotes.delete_quote(quote=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.MarkSentInputSerializer, responses=s.QuoteSerializer, parameters=[QUOTE_REF]
    )
    @action(detail=True, methods=["post"], url_path="mark-sent")
    def mark_sent(self, request, ref):
        """Mark the draft sent without e-mailing it: it takes the next Q number, its date
        (default today) and valid_until (default: the settings' days after it)."""
        quote = self.get_object()
        data = validated(s.MarkSentInputSerializer, request)
        quote = quotes.mark_sent(quote=quote, acting_user=request.user, **data)
        return self._answer(quote)

    @extend_schema(
        request=s.CancelInputSerializer, responses=s.QuoteSerializer, parameters=[QUOTE_REF]
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, ref):
        """Take back a sent quote not yet answered; it can no longer be accepted."""
        quote = self.get_object()
        data = validated(s.CancelInputSerializer, request)
        quote = quotes.withdraw_quote(quote=quote, acting_user=request.user, **data)
        return self._answer(quote)

    @extend_schema(
        request=s.QuoteAnswerInputSerializer, responses=s.QuoteSerializer, parameters=[QUOTE_REF]
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, ref):
        """Record the client's answer on its behalf: who answered, and how (phone, e-mail,
        in person). An acceptance keeps the SHA-256 of the PDF accepted; one after the
        quote expired is allowed here, and recorded as such."""
        quote = self.get_object()
        data = validated(s.QuoteAnswerInputSerializer, request)
        quotes.record_answer(quote=quote, acting_user=request.user, **data)
        return self._answer(quote)

    @extend_schema(
        request=None,
        responses={201: s.InvoiceSerializer, 200: s.InvoiceSerializer},
        parameters=[QUOTE_REF],
    )
    @action(detail=True, methods=["post"])
    def convert(self, request, ref):
        """Convert the quote into one draft invoice with its client, currency, lines,
        discount and taxes: 201 with the invoice when the quote had none before this
        request, 200 with the same invoice when it was converted before (never a second
        invoice, however many convert at once). A quote still sent (or expired) is first
        accepted on the client's behalf by the user, and never changes again."""
        quote = self.get_object()
        converted_before = quote.invoice_id is not None
        invoice = quotes.convert_quote(quote=quote, acting_user=request.user)
        shown = (
            Invoice.objects.with_shown_status(today=self.today)
            .select_related("client")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.select_related("service")),
                "taxes",
            )
            .get(pk=invoice.pk)
        )
        return Response(
            s.InvoiceSerializer(shown, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if converted_before else status.HTTP_201_CREATED,
            headers={"Location": reverse("api:invoice-detail", args=[shown.number or shown.pk])},
        )

    @extend_schema(request=None, responses={201: s.QuoteSerializer}, parameters=[QUOTE_REF])
    @action(detail=True, methods=["post"])
    def duplicate(self, request, ref):
        """A new draft with the quote's client, currency, lines, discount, notes and terms
        (any state: a declined quote offered again), with today's taxes."""
        draft = quotes.duplicate_quote(quote=self.get_object(), acting_user=request.user)
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SendQuoteInputSerializer,
        responses={202: s.MessageSerializer(many=True)},
        parameters=[QUOTE_REF],
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def send(self, request, ref):
        """E-mail the quote with its PDF attached, through the SMTP server of the settings:
        one message per recipient, each with that recipient's own link (which replaces
        the link an earlier send gave it). Fields left
        out are the settings' quote e-mail, filled in. A draft is marked sent first; when
        its e-mail then cannot be queued it stays sent (``sent_not_queued``), and sending
        it again sends it. The answer is the messages in the outbox as they are once the
        first delivery attempt is over (see the invoice's ``send``), the links masked."""
        quote = self.get_object()
        data = validated(s.SendQuoteInputSerializer, request)
        fields = {**sending.quote_message_defaults(quote), **data}
        sent = sending.send_quote(
            quote=quote,
            acting_user=request.user,
            base_url=request.build_absolute_uri("/"),
            **fields,
        )
        # Read again: the delivery ran when the messages' transaction committed.
        messages = message_with_attempts().filter(pk__in=[m.pk for m in sent]).order_by("pk")
        return Response(
            s.MessageSerializer(messages, many=True).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(responses=s.DocumentLinkSerializer(many=True), parameters=[QUOTE_REF])
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request, ref):
        """The links the quote was ever sent with, newest first, revoked, replaced and
        expired ones too, with their views. A link's token is never shown: only the
        e-mail it went in carried it."""
        return links_answer(self.get_object())

    @extend_schema(
        request=s.RevokeLinkInputSerializer,
        responses=s.DocumentLinkSerializer,
        parameters=[QUOTE_REF, LINK_ID],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"links/(?P<link_id>[^/]+)/revoke",
        url_name="revoke-link",
    )
    def revoke_link(self, request, ref, link_id):
        """The link no longer opens the quote: whoever follows it gets the same "not found"
        page as for a link that never existed. A link of another quote is not found."""
        return revoke_link_answer(self.get_object(), link_id, request)

    @extend_schema(responses=PDF_RESPONSES, parameters=[QUOTE_REF])
    @action(detail=True, methods=["get"], renderer_classes=PDF_RENDERERS)
    def pdf(self, request, ref):
        """The quote as PDF, from the invoice's template family (titled QUOTE)."""
        quote = document.load_quote(pk=self.get_object().pk)
        return pdf_download(
            lambda: document.quote_pdf(quote, request=request),
            filename=document.quote_filename(quote),
            what=f"quote {quote.pk}",
        )
