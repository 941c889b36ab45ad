"""Credit notes (SPEC: Credit notes) and refunds (SPEC: Payments). A credit note is made from
an issued invoice as a draft, changed or deleted while a draft, and issued; an issued one
never changes. A refund pays client credit back and is reversed, never deleted."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import pdf
from billing import services as billing
from billing.lists import client_code
from billing.models import CreditNote, CreditNoteStatus, Invoice, Refund
from links.models import LinkKind
from links.office import REVOKE_PERMISSIONS
from otb.operations import InvalidInput

from .. import serializers as s
from ..idempotency import idempotent
from .base import (
    IDEMPOTENCY_PARAMETER,
    PDF_RENDERERS,
    PDF_RESPONSES,
    ApiViewMixin,
    client_by_code,
    links_answer,
    object_by_id,
    object_by_ref,
    pdf_download,
    revoke_link_answer,
    validated,
)
from .invoices import LINK_ID

CREDIT_NOTE_FILTERS = [
    OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case."),
    OpenApiParameter(
        "invoice", OpenApiTypes.STR, description="The whole number of the invoice, any case."
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=CreditNoteStatus.values),
]
# As invoices: an issued credit note is also found by its number.
CREDIT_NOTE_REF = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The credit note's id, or its number once issued (CN-0001).",
)


def _issued_invoice(number: str) -> Invoice:
    invoice = Invoice.objects.filter(number=number.strip()).first()
    if invoice is None:
        raise InvalidInput.single(
            "invoice", _("Invoice: no issued invoice is numbered “%(ref)s”.") % {"ref": number[:40]}
        )
    return invoice


def _operation_fields(data: dict) -> dict:
    """The validated input as the operations take it."""
    fields = dict(data)
    if "lines" in fields:
        fields["lines"] = [
            billing.CreditLineData(invoice_line=line["invoice_line"], quantity=line["quantity"])
            for line in fields["lines"]
        ]
    return fields


@extend_schema(tags=["credit notes"])
class CreditNoteViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Credit notes of issued invoices: in full, for quantities of some lines, or for a gross
    amount; drafts until issued (CN-0001…), never more than the invoice has left to credit."""

    serializer_class = s.CreditNoteSerializer
    queryset = CreditNote.objects.select_related("client", "invoice").prefetch_related(
        "lines", "taxes"
    )
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_permissions = ["billing.view_creditnote"]
    write_permissions = {
        "create": ["billing.add_creditnote"],
        "partial_update": ["billing.change_creditnote"],
        "destroy": ["billing.delete_creditnote"],
        "issue": ["billing.issue_creditnote"],
        "revoke_link": list(REVOKE_PERMISSIONS[LinkKind.CREDIT_NOTE]),
    }

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        params = self.request.query_params
        if params.get("client", "").strip():
            queryset = queryset.filter(client__code=client_code(params["client"]))
        if params.get("invoice", "").strip():
            queryset = queryset.filter(invoice__number__iexact=params["invoice"].strip())
        if params.get("status"):
            value = params["status"].strip()
            if value not in CreditNoteStatus.values:
                raise InvalidInput.single(
                    "status",
                    _("status: “%(value)s” is not one of %(values)s.")
                    % {"value": value[:40], "values": ", ".join(CreditNoteStatus.values)},
                )
            queryset = queryset.filter(status=value)
        return queryset.order_by("-created_at", "-id")

    def get_object(self) -> CreditNote:
        return object_by_ref(self.queryset, self.kwargs["pk"], what=_("credit note"))

    def _answer(self, note: CreditNote, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.queryset.get(pk=note.pk)).data, status=status_code)

    @extend_schema(parameters=CREDIT_NOTE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[CREDIT_NOTE_REF])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.CreditNoteInputSerializer,
        responses={201: s.CreditNoteSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        """A draft credit note of an issued invoice."""
        data = _operation_fields(validated(s.CreditNoteInputSerializer, request))
        invoice = _issued_invoice(data.pop("invoice"))
        note = billing.create_credit_note(invoice=invoice, acting_user=request.user, **data)
        return self._answer(note, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CreditNoteChangeSerializer,
        responses=s.CreditNoteSerializer,
        parameters=[CREDIT_NOTE_REF],
    )
    def partial_update(self, request, pk):
        """Change a draft; its figures are computed again."""
        note = self.get_object()
        data = _operation_fields(validated(s.CreditNoteChangeSerializer, request, partial=True))
        note = billing.update_credit_note(credit_note=note, acting_user=request.user, **data)
        return self._answer(note)

    @extend_schema(responses={204: None}, parameters=[CREDIT_NOTE_REF])
    def destroy(self, request, pk):
        """Delete a draft; an issued credit note never changes."""
        billing.delete_credit_note(credit_note=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.CreditNoteIssueInputSerializer,
        responses=s.CreditNoteSerializer,
        parameters=[CREDIT_NOTE_REF],
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk):
        """Number the draft (CN-0001…) and post it to the client's ledger."""
        note = self.get_object()
        data = validated(s.CreditNoteIssueInputSerializer, request)
        note = billing.issue_credit_note(credit_note=note, acting_user=request.user, **data)
        return self._answer(note)

    @extend_schema(responses=PDF_RESPONSES, parameters=[CREDIT_NOTE_REF])
    @action(detail=True, methods=["get"], renderer_classes=PDF_RENDERERS)
    def pdf(self, request, pk):
        """The credit note's PDF, from the invoice's template."""
        note = pdf.load_credit_note(pk=self.get_object().pk)
        return pdf_download(
            lambda: pdf.credit_note_pdf(note, request=request),
            filename=pdf.credit_note_filename(note),
            what=f"credit note {note.pk}",
        )

    @extend_schema(responses=s.DocumentLinkSerializer(many=True), parameters=[CREDIT_NOTE_REF])
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request, pk):
        """The links the credit note was ever sent with, newest first, revoked, replaced
        and expired ones too, with their views. A link's token is never shown."""
        return links_answer(self.get_object())

    @extend_schema(
        request=s.RevokeLinkInputSerializer,
        responses=s.DocumentLinkSerializer,
        parameters=[CREDIT_NOTE_REF, LINK_ID],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"links/(?P<link_id>[^/]+)/revoke",
        url_name="revoke-link",
    )
    def revoke_link(self, request, pk, link_id):
        """The link no longer opens the credit note: whoever follows it gets the same "not
        found" page as for a link that never existed. A link of another credit note is not
        found. To replace a link, send the credit note again to its recipient."""
        return revoke_link_answer(self.get_object(), link_id, request)


@extend_schema(tags=["refunds"])
class RefundViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Client credit paid back: refused beyond the available credit; reversed, never
    deleted."""

    serializer_class = s.RefundSerializer
    queryset = Refund.objects.select_related("client")
    lookup_value_regex = "[^/]+"
    read_permissions = ["billing.view_refund"]
    write_permissions = {
        "create": ["billing.add_refund"],
        "reverse": ["billing.reverse_refund"],
    }

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        code = self.request.query_params.get("client", "")
        if code.strip():
            queryset = queryset.filter(client__code=client_code(code))
        return queryset.order_by("-date", "-id")

    def get_object(self) -> Refund:
        return object_by_id(self.queryset, self.kwargs["pk"], what=_("refund"))

    def _answer(self, refund: Refund, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(refund).data, status=status_code)

    @extend_schema(
        parameters=[
            OpenApiParameter("client", OpenApiTypes.STR, description="A client code, any case.")
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.RefundInputSerializer,
        responses={201: s.RefundSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        data = dict(validated(s.RefundInputSerializer, request))
        client = client_by_code(data.pop("client"))
        refund = billing.record_refund(client=client, acting_user=request.user, **data)
        return self._answer(refund, status.HTTP_201_CREATED)

    @extend_schema(request=s.ReverseInputSerializer, responses=s.RefundSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk):
        refund = self.get_object()
        data = validated(s.ReverseInputSerializer, request)
        refund = billing.reverse_refund(
            refund=refund, reason=data["reason"], acting_user=request.user
        )
        return self._answer(refund)
