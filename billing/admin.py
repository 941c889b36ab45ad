"""The back office for clients, services, invoices and payments.

Every write goes through billing.services; the admin only collects input and shows what the
operations answer (see otb.admin.OperationAdmin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.events import EntryKind
from ledger.models import LedgerEntry
from otb.admin import BUSY_MESSAGE, OperationAdmin
from otb.forms import OperationModelForm
from otb.operations import DomainError, is_retryable
from settings_app.selectors import business_today, get_business_settings

from . import services
from .forms.credit_notes import CreditNoteIssueForm
from .forms.invoices import IssueForm, OptionalReasonForm, ReasonForm, ServiceOrTypedLine
from .forms.ledger import ManualEntryAdminForm
from .models import (
    Client,
    ClientContact,
    CreditKind,
    CreditNote,
    CreditNoteLine,
    CreditNoteTax,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    Service,
    ServicePrice,
)
from .money import ZERO, format_money, format_price
from .rules import client_deletion_refusal
from .selectors import with_balance
from .views import object_or_none


def signed_amount(amount, currency: str = "") -> str:
    """An amount coloured by its sign: green credit, red owing, grey zero (SPEC: ledger)."""
    css = "otb-positive" if amount > 0 else "otb-negative" if amount < 0 else "otb-zero"
    return format_html('<span class="{}">{}</span>', css, format_money(amount, currency))


def badge(value: str, label: str) -> str:
    return format_html('<span class="otb-badge otb-badge-{}">{}</span>', value, label)


# --- Clients ----------------------------------------------------------------------------
class ClientContactForm(OperationModelForm):
    """A row of a client's other contacts: the operation checks it."""

    class Meta:
        model = ClientContact
        fields = ("name", "email")


class PartOfParentInline(admin.TabularInline):
    """Rows that are part of their parent (``parent``: "client", "service"), saved with it
    by its operation: whoever may add or change the parent may set them."""

    parent = ""

    def _may_edit(self, request, obj) -> bool:
        action = "change" if obj is not None else "add"
        return request.user.has_perm(f"billing.{action}_{self.parent}")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(f"billing.view_{self.parent}") or self._may_edit(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)


class ClientContactInline(PartOfParentInline):
    """A client's other contacts, saved with it by its operation."""

    model = ClientContact
    form = ClientContactForm
    extra = 1
    verbose_name = gettext_lazy("other contact")
    verbose_name_plural = gettext_lazy("other contacts")

    # The contacts are part of the client: who may add or change it may set them.
    parent = "client"


@admin.register(Client)
class ClientAdmin(OperationAdmin):
    list_display = (
        "code",
        "name",
        "country",
        "currency",
        "balance_display",
        "is_active",
        "ledger_link",
    )
    list_display_links = ("code", "name")
    search_fields = ("code", "name", "email", "contact_person")
    list_filter = ("is_active", "tax_exempt", "default_currency", "country")
    inlines = (ClientContactInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "is_active")}),
        (
            gettext_lazy("Contact"),
            {"fields": ("contact_person", "email", "phone", "address", "country")},
        ),
        (
            gettext_lazy("Billing"),
            {"fields": ("default_currency", "tax_number", "notes")},
        ),
        (
            gettext_lazy("Taxes"),
            {"fields": ("uses_default_taxes", "tax_exempt", "taxes")},
        ),
    )
    formfield_overrides = {
        **OperationAdmin.formfield_overrides,
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
    }

    def save_model(self, request, obj, form, change):
        # Saved with its taxes and other contacts by one operation, in save_related.
        pass

    def save_related(self, request, form, formsets, change):
        fields = {k: v for k, v in form.cleaned_data.items() if k in services.CLIENT_FIELDS}
        contact_formset = next((fs for fs in formsets if fs.model is ClientContact), None)
        if contact_formset is not None:
            fields["contacts"] = [
                {"name": data.get("name") or "", "email": data.get("email") or ""}
                for data in (f.cleaned_data for f in contact_formset.forms)
                if data and not data.get("DELETE")
            ]
        if change:
            services.update_client(client=form.instance, acting_user=request.user, **fields)
        else:
            form.instance.pk = services.create_client(acting_user=request.user, **fields).pk
        for formset in formsets:
            # The operation saved the contacts; the admin's change message expects these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_queryset(self, request):
        return with_balance(super().get_queryset(request))

    @admin.display(description=gettext_lazy("currency"), ordering="default_currency")
    def currency(self, client):
        return client.default_currency

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_display(self, client):
        return signed_amount(client.balance, client.default_currency)

    @admin.display(description=gettext_lazy("ledger"))
    def ledger_link(self, client):
        url = reverse("admin:ledger_ledgerentry_changelist") + f"?client__id__exact={client.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Ledger"))

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        settings = get_business_settings()
        initial.setdefault("default_currency", settings.default_currency)
        initial.setdefault("country", settings.local_country)
        return initial

    def delete_view(self, request, object_id, extra_context=None):
        # Django's page would list the invoices and payments it may not delete, as missing
        # permissions, even for a superuser: say the real reason and the way out instead.
        client = self.get_object(request, object_id)
        refusal = client_deletion_refusal(client) if client is not None else None
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:billing_client_change", args=[client.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.delete_client(client=obj, acting_user=request.user)

    def get_actions(self, request):
        # One client at a time, from its page: Django's bulk delete would list a client's
        # invoices as objects the user may not delete.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# --- Services ---------------------------------------------------------------------------
class ServicePriceForm(OperationModelForm):
    """A row of a service's prices in other currencies: the operation checks it."""

    class Meta:
        model = ServicePrice
        fields = ("currency", "unit_price")


class ServicePriceInline(PartOfParentInline):
    """A service's prices in other currencies, saved with it by its operation."""

    model = ServicePrice
    form = ServicePriceForm
    extra = 1

    # The prices are part of the service: who may add or change it may set them.
    parent = "service"


@admin.register(Service)
class ServiceAdmin(OperationAdmin):
    list_display = ("code", "name", "unit", "unit_price_display", "taxable", "is_active")
    list_display_links = ("code", "name")
    search_fields = ("code", "name", "description")
    list_filter = ("is_active", "taxable")
    inlines = (ServicePriceInline,)
    formfield_overrides = {
        **OperationAdmin.formfield_overrides,
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
    }

    @admin.display(description=gettext_lazy("unit price"), ordering="unit_price")
    def unit_price_display(self, service):
        return format_price(service.unit_price)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") in ("invoiceline", "quoteline"):
            # Inactive services are hidden from new lines of invoices and quotes.
            queryset = queryset.filter(is_active=True)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # Saved with its prices by one operation, in save_related.
        pass

    def save_related(self, request, form, formsets, change):
        fields = {k: v for k, v in form.cleaned_data.items() if k in services.SERVICE_FIELDS}
        price_formset = next((fs for fs in formsets if fs.model is ServicePrice), None)
        if price_formset is not None:
            fields["prices"] = [
                {"currency": data["currency"], "unit_price": data["unit_price"]}
                for data in (f.cleaned_data for f in price_formset.forms)
                if data and not data.get("DELETE")
            ]
        if change:
            services.update_service(service=form.instance, acting_user=request.user, **fields)
        else:
            form.instance.pk = services.create_service(acting_user=request.user, **fields).pk
        for formset in formsets:
            # The operation saved the prices; the admin's change message expects these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Invoices ---------------------------------------------------------------------------
def lock_reason(request, invoice) -> str | None:
    """invoice_lock_reason, asked once per request and invoice."""
    if invoice is None or invoice.pk is None:
        return None
    cache = request.__dict__.setdefault("_otb_lock_reasons", {})
    if invoice.pk not in cache:
        cache[invoice.pk] = services.invoice_lock_reason(invoice)
    return cache[invoice.pk]


class InvoiceLineForm(ServiceOrTypedLine, forms.ModelForm):
    class Meta:
        # Any document's line model (a quote's form is this one's subclass).
        model: type[models.Model] = InvoiceLine
        fields = InvoiceLine.INPUT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Taken from the chosen service when left empty.
        self.fields["description"].required = False
        self.fields["unit_price"].required = False


class InvoiceLineInline(admin.TabularInline):
    # Any document's line model (a quote's inline is this one's subclass).
    model: type[models.Model] = InvoiceLine
    form = InvoiceLineForm
    fields = (*InvoiceLine.INPUT_FIELDS, "amount")
    readonly_fields = ("amount",)
    autocomplete_fields = ("service",)
    extra = 1
    input_sizes = {
        "description": 40,
        "quantity": 8,
        "unit": 5,
        "unit_price": 10,
        "discount_percent": 6,
    }

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "service":
            # A line only picks a service; services are edited on their own page.
            widget = formfield.widget
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        elif db_field.name in self.input_sizes:
            formfield.widget.attrs["size"] = self.input_sizes[db_field.name]
            formfield.widget.attrs["style"] = "width: auto"
        return formfield

    def locked(self, request, obj) -> bool:
        """Whether the document's lines can no longer change (a quote's inline says when
        its own)."""
        return bool(lock_reason(request, obj))

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if self.locked(request, obj) else 3 if obj is None else 1

    def has_add_permission(self, request, obj=None):
        return not self.locked(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self.locked(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.locked(request, obj) and super().has_delete_permission(request, obj)


def typed_lines(line_formset) -> list[services.LineData]:
    """The lines of a document's line inline as its operation takes them (invoices,
    quotes)."""
    return [
        services.LineData(
            service=data.get("service"),
            description=data.get("description") or "",
            quantity=data.get("quantity"),
            unit=data.get("unit") or "",
            unit_price=data.get("unit_price"),
            discount_percent=data.get("discount_percent"),
            taxable=data.get("taxable"),
        )
        for data in (f.cleaned_data for f in line_formset.forms)
        if data and not data.get("DELETE")
    ]


def saved_by_the_operation(formsets) -> None:
    """The operation saved the inline rows; the admin's change message expects these."""
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceTaxInline(ReadOnlyInline):
    model: type[models.Model] = InvoiceTax
    fields = ("label", "rate", "base", "amount")
    verbose_name_plural = gettext_lazy("taxes (copied from the settings when created)")


class InvoicePaymentInline(ReadOnlyInline):
    model = Payment
    fk_name = "invoice"
    fields = ("payment_link", "date", "amount", "method", "reference", "status")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("payment"))
    def payment_link(self, payment):
        url = reverse("admin:billing_payment_change", args=[payment.pk])
        return format_html('<a href="{}">{}</a>', url, payment)


class InvoiceChangeInline(ReadOnlyInline):
    model: type[models.Model] = InvoiceChange
    fields = ("changed_at", "changed_by", "changes_display")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("change history")

    @admin.display(description=gettext_lazy("changes"))
    def changes_display(self, change):
        return changes_html(change.changes)


def changes_html(changes: dict) -> str:
    """A recorded change of a document (an invoice's, a quote's): each field, old → new."""
    rows = []
    for field, values in changes.items():
        if field == "lines":
            old = "; ".join(_describe_line(line) for line in values["old"])
            new = "; ".join(_describe_line(line) for line in values["new"])
        else:
            old, new = values["old"], values["new"]
        rows.append((field, old, new))
    return format_html_join("", "<div><b>{}</b>: {} → {}</div>", rows)


def _describe_line(line: dict) -> str:
    return f"{line['quantity']} × {line['description']} @ {line['unit_price']} = {line['amount']}"


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = (
            "client",
            "discount_kind",
            "discount_value",
            "issue_date",
            "due_date",
            "notes",
            "terms",
        )


class ClientCodeFilter(admin.SimpleListFilter):
    """Filter by client code typed in the URL (?client=ACME) without listing every client."""

    title = gettext_lazy("client")
    parameter_name = "client"

    def lookups(self, request, model_admin):
        code = request.GET.get(self.parameter_name)
        return [(code, code)] if code else []

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(client__code=self.value().upper())
        return queryset


@dataclass(frozen=True)
class ObjectAction:
    """An operation on one object, behind a button on its page and a confirmation form
    whose fields are the operation's arguments."""

    name: str  # URL name suffix and path
    title: StrOrPromise  # "%(object)s" is replaced by the object
    operation: Callable[..., Any]
    success: StrOrPromise
    form_class: type[forms.Form] = forms.Form
    # What the user must hold to see its form at all (the operation checks them again).
    permissions: tuple[str, ...] = ()
    # The operation's name for the object, when not the model's ("credit_note").
    argument: str = ""


if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class ObjectActionsMixin(_ModelAdmin):
    """Buttons on an object's admin page for its operations (``object_actions``); mixed into
    a ModelAdmin."""

    object_actions: tuple[ObjectAction, ...] = ()

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                f"<int:pk>/{action.name.replace('_', '-')}/",
                self.admin_site.admin_view(partial(self.object_action_view, action=action)),
                name=f"{opts.app_label}_{opts.model_name}_{action.name}",
            )
            for action in self.object_actions
        ] + super().get_urls()

    def object_action_view(self, request, pk, *, action: ObjectAction):
        if not request.user.has_perms(action.permissions):
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=pk)
        opts = self.model._meta
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        data = request.POST if request.method == "POST" else None
        form = action.form_class(data, initial=self.object_action_initial(obj, action))
        if request.method == "POST" and form.is_valid():
            try:
                action.operation(
                    acting_user=request.user,
                    **{action.argument or opts.model_name: obj},
                    **form.cleaned_data,
                )
            except DomainError as exc:
                if exc.field not in form.fields:
                    self.message_user(request, exc.message, messages.ERROR)
                    return HttpResponseRedirect(change_url)
                form.add_error(exc.field, exc.message)
            except OperationalError as exc:
                # Still a deadlock after every attempt of the operation: say so, no 500.
                if not is_retryable(exc):
                    raise
                self.message_user(request, _(BUSY_MESSAGE), messages.ERROR)
                return HttpResponseRedirect(change_url)
            else:
                self.message_user(request, action.success, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": action.title % {"object": obj},
            "object": obj,
            "opts": opts,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/otb_action_confirm.html", context)

    def object_action_initial(self, obj, action: ObjectAction) -> dict:
        return {}


@admin.register(Invoice)
class InvoiceAdmin(ObjectActionsMixin, OperationAdmin):
    form = InvoiceForm
    list_display = (
        "display_number",
        "client_code",
        "client_name",
        "issue_date",
        "due_date",
        "status_badge",
        "total_display",
        "balance_due_display",
    )
    list_filter = (
        "status",
        ClientCodeFilter,
        ("issue_date", DateFieldListFilter),
        ("due_date", DateFieldListFilter),
    )
    search_fields = ("number", "client__code", "client__name")
    # Prefetched, not joined: see billing.views.invoices.invoice_list.
    list_select_related = ()
    list_prefetch_related = ("client",)
    autocomplete_fields = ("client",)
    date_hierarchy = None
    inlines = (InvoiceLineInline, InvoiceTaxInline, InvoicePaymentInline, InvoiceChangeInline)
    # outbox/admin.py adds "send by e-mail": the outbox builds on billing.
    actions: tuple[Any, ...] = ("issue_selected",)
    object_actions = (
        ObjectAction(
            "issue",
            gettext_lazy("Issue %(object)s"),
            services.issue_invoice,
            gettext_lazy("Invoice issued."),
            IssueForm,
            permissions=("billing.issue_invoice",),
        ),
        ObjectAction(
            "cancel",
            gettext_lazy("Cancel %(object)s"),
            services.cancel_invoice,
            gettext_lazy("Invoice cancelled."),
            OptionalReasonForm,
            permissions=("billing.cancel_invoice",),
        ),
        ObjectAction(
            "apply_credit",
            gettext_lazy("Pay %(object)s from the client's credit"),
            services.apply_client_credit,
            gettext_lazy("Paid from the client's credit."),
            permissions=("billing.add_payment", "billing.confirm_payment"),
        ),
    )
    figure_fields = (
        "status_badge",
        "currency",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "amount_paid",
        "balance_due_display",
    )

    def get_fieldsets(self, request, obj=None):
        header = ["client", "issue_date", "due_date"]
        if obj is not None:
            header = ["display_number", *header]
        return (
            (None, {"fields": header}),
            (
                gettext_lazy("Discount on the subtotal"),
                {"fields": ("discount_kind", "discount_value")},
            ),
            (gettext_lazy("Text"), {"fields": ("notes", "terms")}),
            (gettext_lazy("Figures"), {"fields": self.figure_fields}),
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["display_number", *self.figure_fields]
        if lock_reason(request, obj):
            readonly += ["client", "discount_kind", "discount_value", "issue_date", "due_date"]
        return readonly

    def has_delete_permission(self, request, obj=None):
        # Only drafts are ever deleted; issued invoices are cancelled.
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=gettext_lazy("client"), ordering="client__code")
    def client_code(self, invoice):
        return invoice.client.code

    @admin.display(description=gettext_lazy("name"))
    def client_name(self, invoice):
        return Truncator(invoice.client.name).chars(30)

    @admin.display(description=gettext_lazy("number"), ordering="sequence")
    def display_number(self, invoice):
        return invoice.number or format_html("<i>{}</i>", _("Draft #%(id)s") % {"id": invoice.pk})

    def get_queryset(self, request):
        return super().get_queryset(request).with_shown_status(today=business_today())

    @admin.display(description=gettext_lazy("status"), ordering="shown_status")
    def status_badge(self, invoice):
        status = InvoiceStatus(invoice.shown_status)
        return badge(status.value, status.label)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_display(self, invoice):
        return format_money(invoice.total, invoice.currency)

    @admin.display(description=gettext_lazy("balance due"))
    def balance_due_display(self, invoice):
        if invoice.is_draft or invoice.is_cancelled:
            return "—"
        # What the client still owes, as the office pages show it: a positive amount (the
        # ledger, not an invoice, shows what is owed as negative).
        return format_money(invoice.balance_due, invoice.currency)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("terms", get_business_settings().payment_terms_text)
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        invoice = self.get_object(request, object_id)
        if invoice is not None:
            extra_context["lock_reason"] = lock_reason(request, invoice)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Saved with its lines by one operation, in save_related.
        pass

    def save_related(self, request, form, formsets, change):
        fields = {
            name: form.cleaned_data[name]
            for name in (
                "client",
                "discount_kind",
                "discount_value",
                "issue_date",
                "due_date",
                "notes",
                "terms",
            )
            if name in form.cleaned_data
        }
        line_formset = next((fs for fs in formsets if fs.model is InvoiceLine), None)
        editable_lines = line_formset is not None and not lock_reason(request, form.instance)
        if editable_lines and (not change or line_formset.has_changed()):
            fields["lines"] = typed_lines(line_formset)
        if change:
            services.update_invoice(invoice=form.instance, acting_user=request.user, **fields)
        else:
            form.instance.pk = services.create_draft(acting_user=request.user, **fields).pk
        saved_by_the_operation(formsets)

    def delete_model(self, request, obj):
        services.delete_draft(invoice=obj, acting_user=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:billing_invoice_changelist"))

    def object_action_initial(self, invoice, action):
        if action.name == "issue":
            return {"issue_date": invoice.issue_date or business_today()}
        return {}

    @admin.action(description=gettext_lazy("Issue the selected drafts"), permissions=["issue"])
    def issue_selected(self, request, queryset):
        issued = 0
        for invoice in queryset.filter(status=InvoiceStatus.DRAFT).order_by("pk"):
            if self.run_operation(request, services.issue_invoice, invoice=invoice):
                issued += 1
        skipped = queryset.exclude(status=InvoiceStatus.DRAFT).count()
        if issued:
            self.message_user(request, _("%(n)d invoice(s) issued.") % {"n": issued})
        if skipped:
            self.message_user(
                request,
                _("%(n)d selected invoice(s) were already issued.") % {"n": skipped},
                messages.WARNING,
            )

    def has_issue_permission(self, request):
        return request.user.has_perm("billing.issue_invoice")

    def has_send_permission(self, request):
        return request.user.has_perm("outbox.send_message")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "payment":
            # Payments go to issued invoices that are not cancelled.
            queryset = queryset.exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED])
        return queryset, may_have_duplicates


# --- Payments ---------------------------------------------------------------------------
class PaymentForm(forms.ModelForm):
    confirmed = forms.BooleanField(
        label=gettext_lazy("Confirmed"),
        required=False,
        initial=True,
        help_text=gettext_lazy("Untick to record it as pending, to be confirmed later."),
    )

    class Meta:
        model = Payment
        fields = ("client", "invoice", "amount", "date", "method", "reference", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "client" in self.fields:
            self.fields["client"].required = False
            self.fields["client"].help_text = _("Taken from the invoice when left empty.")


@admin.register(Payment)
class PaymentAdmin(ObjectActionsMixin, OperationAdmin):
    form = PaymentForm
    list_display = (
        "__str__",
        "date",
        "client",
        "invoice_link",
        "amount_display",
        "method",
        "status_badge",
    )
    list_filter = ("status", "method", ("date", DateFieldListFilter))
    search_fields = ("reference", "client__code", "client__name", "invoice__number")
    # Prefetched, not joined: see billing.views.invoices.invoice_list.
    list_select_related = ()
    list_prefetch_related = ("client", "invoice")
    autocomplete_fields = ("client", "invoice")
    actions = ("confirm_selected",)
    object_actions = (
        ObjectAction(
            "confirm",
            gettext_lazy("Confirm %(object)s"),
            services.confirm_payment,
            gettext_lazy("Payment confirmed."),
            permissions=("billing.confirm_payment",),
        ),
        ObjectAction(
            "reverse",
            gettext_lazy("Reverse %(object)s"),
            services.reverse_payment,
            gettext_lazy("Payment reversed."),
            ReasonForm,
            permissions=("billing.reverse_payment",),
        ),
    )
    readonly_fields = (
        "status",
        "created_at",
        "created_by",
        "confirmed_at",
        "confirmed_by",
        "reversed_at",
        "reversed_by",
        "reversal_reason",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return (
                "client",
                "invoice",
                "amount",
                "date",
                "method",
                "reference",
                "note",
                "confirmed",
            )
        return (
            "client",
            "invoice",
            "amount",
            "date",
            "method",
            "reference",
            "note",
            *self.readonly_fields,
        )

    def has_change_permission(self, request, obj=None):
        # A pending payment may be corrected; a confirmed one has counted and is reversed
        # and entered again (buttons on its page).
        pending = obj is None or obj.status == PaymentStatus.PENDING
        return pending and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("client", "invoice", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def response_add(self, request, obj, post_url_continue=None):
        # What the payment did, as the office page says it: an overpayment is never silent.
        from billing.views.payments import recorded_message

        self.message_user(request, recorded_message(obj), messages.SUCCESS)
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description=gettext_lazy("invoice"), ordering="invoice__sequence")
    def invoice_link(self, payment):
        if not payment.invoice_id:
            return _("on account")
        url = reverse("admin:billing_invoice_change", args=[payment.invoice_id])
        return format_html('<a href="{}">{}</a>', url, payment.invoice)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, payment):
        return format_money(payment.amount, payment.currency)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, payment):
        return badge(payment.status, payment.get_status_display())

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("date", business_today())
        initial.setdefault("method", PaymentMethod.BANK_TRANSFER)
        invoice = object_or_none(Invoice, request.GET.get("invoice"))
        initial.pop("invoice", None)  # as typed in the URL, it may be anything
        if invoice is not None:
            initial["invoice"] = invoice.pk
            initial["client"] = invoice.client_id
            initial.setdefault("amount", max(invoice.balance_due, ZERO))
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.update_payment(
                payment=obj,
                acting_user=request.user,
                **{name: data[name] for name in ("amount", "date", "method", "reference", "note")},
            )
            return
        obj.pk = services.record_payment(
            client=data.get("client"),
            invoice=data.get("invoice"),
            amount=data["amount"],
            date=data["date"],
            method=data["method"],
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            confirmed=data.get("confirmed", False),
            acting_user=request.user,
        ).pk
        obj.refresh_from_db()  # what the operation made of it: its currency, its status

    @admin.action(
        description=gettext_lazy("Confirm the selected pending payments"), permissions=["confirm"]
    )
    def confirm_selected(self, request, queryset):
        confirmed = 0
        for payment in queryset.filter(status=PaymentStatus.PENDING).order_by("pk"):
            if self.run_operation(request, services.confirm_payment, payment=payment):
                confirmed += 1
        if confirmed:
            self.message_user(request, _("%(n)d payment(s) confirmed.") % {"n": confirmed})

    def has_confirm_permission(self, request):
        return request.user.has_perm("billing.confirm_payment")


# --- The ledger's back office: here, because a manual entry is a money event of billing's
# accounting (billing.services.post_manual_credit / _debit); the ledger app imports nothing
# of billing.
@admin.register(LedgerEntry)
class LedgerEntryAdmin(OperationAdmin):
    form = ManualEntryAdminForm
    list_display = (
        "date",
        "client",
        "kind",
        "amount_display",
        "memo",
        "invoice",
        "payment",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", ("date", DateFieldListFilter))
    search_fields = ("client__code", "client__name", "memo")
    # Prefetched, not joined: see billing.views.invoices.invoice_list.
    list_select_related = ()
    list_prefetch_related = ("client", "invoice", "payment", "created_by")
    autocomplete_fields = ("client",)
    ordering = ("-date", "-id")
    actions = None

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("client", "kind", "amount", "memo", "date")
        return (
            "client",
            "date",
            "kind",
            "amount",
            "memo",
            "invoice",
            "payment",
            "created_by",
            "created_at",
        )

    def has_change_permission(self, request, obj=None):
        return False  # append-only: a mistake is corrected by a new entry

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, entry):
        return signed_amount(entry.amount, entry.currency)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("date", business_today())
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        post = (
            services.post_manual_credit
            if data["kind"] == EntryKind.MANUAL_CREDIT
            else services.post_manual_debit
        )
        obj.pk = post(
            client=data["client"],
            amount=data["amount"],
            memo=data["memo"],
            date=data["date"],
            acting_user=request.user,
        ).pk


# --- Credit notes and refunds (SPEC: Credit notes, Payments) ------------------------------
class CreditNoteAdminForm(forms.ModelForm):
    """What to credit: all that remains, an amount, or quantities of the invoice's lines
    typed as "position: quantity", one per line ("2: 1.5" credits 1.5 of the second line)."""

    amount = forms.CharField(
        label=gettext_lazy("amount to credit"),
        required=False,
        help_text=gettext_lazy("For “an amount”: taxes included."),
    )
    quantities = forms.CharField(
        label=gettext_lazy("quantities"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "For “some lines”: one line each, the invoice line's position and the quantity, "
            "such as “2: 1.5”."
        ),
    )

    class Meta:
        model = CreditNote
        fields = ("invoice", "kind", "reason")

    def clean_quantities(self) -> list[tuple[int, str]]:
        pairs = []
        for row in (self.cleaned_data.get("quantities") or "").splitlines():
            if not row.strip():
                continue
            position, colon, quantity = row.partition(":")
            if not colon or not position.strip().isdigit():
                raise forms.ValidationError(
                    _("Quantities: write each line as “position: quantity”, not “%(row)s”.")
                    % {"row": row.strip()[:50]}
                )
            pairs.append((int(position), quantity.strip()))
        return pairs

    def credit_lines(self, invoice: Invoice) -> list[services.CreditLineData]:
        by_position = {line.position: line.pk for line in invoice.lines.all()}
        return [
            services.CreditLineData(invoice_line=by_position.get(position, -1), quantity=quantity)
            for position, quantity in self.cleaned_data["quantities"]
        ]


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = ("description", "quantity", "unit_price", "discount_percent", "amount")


class CreditNoteTaxInline(ReadOnlyInline):
    model = CreditNoteTax
    fields = ("label", "rate", "number", "base", "amount")


@admin.register(CreditNote)
class CreditNoteAdmin(ObjectActionsMixin, OperationAdmin):
    form = CreditNoteAdminForm
    list_display = ("__str__", "issue_date", "client", "invoice", "total_display", "status_badge")
    list_filter = ("status", "kind", ("issue_date", DateFieldListFilter))
    search_fields = ("number", "client__code", "client__name", "invoice__number")
    list_select_related = ()
    list_prefetch_related = ("client", "invoice")
    autocomplete_fields = ("invoice",)
    inlines = (CreditNoteLineInline, CreditNoteTaxInline)
    actions = None
    object_actions = (
        ObjectAction(
            "issue",
            gettext_lazy("Issue %(object)s"),
            services.issue_credit_note,
            gettext_lazy("Credit note issued."),
            CreditNoteIssueForm,
            permissions=("billing.issue_creditnote",),
            argument="credit_note",
        ),
    )
    readonly_fields = (
        "number",
        "status",
        "client",
        "currency",
        "issue_date",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "issued_at",
        "issued_by",
        "created_by",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("invoice", "kind", "amount", "quantities", "reason")
        return ("invoice", "kind", "reason", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("invoice", "kind", "reason", *self.readonly_fields)
        return ()

    def has_change_permission(self, request, obj=None):
        # A draft is changed on its office page; an issued credit note never changes.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.is_draft and super().has_delete_permission(request, obj)

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else ()

    def object_action_initial(self, obj, action: ObjectAction) -> dict:
        return {"issue_date": business_today()}

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_display(self, note):
        return format_money(note.total, note.currency)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, note):
        return badge(note.status, note.get_status_display())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        invoice = data["invoice"]
        obj.pk = services.create_credit_note(
            invoice=invoice,
            acting_user=request.user,
            kind=data["kind"],
            amount=data.get("amount") or None,
            lines=form.credit_lines(invoice) if data["kind"] == CreditKind.LINES else (),
            reason=data.get("reason", ""),
        ).pk

    def save_related(self, request, form, formsets, change):
        pass

    def delete_model(self, request, obj):
        services.delete_credit_note(credit_note=obj, acting_user=request.user)


class RefundForm(forms.ModelForm):
    class Meta:
        model = Refund
        fields = ("client", "amount", "date", "method", "reference", "note")


@admin.register(Refund)
class RefundAdmin(ObjectActionsMixin, OperationAdmin):
    form = RefundForm
    list_display = ("__str__", "date", "client", "amount_display", "method", "reversed_at")
    list_filter = ("method", ("date", DateFieldListFilter))
    search_fields = ("reference", "client__code", "client__name")
    list_select_related = ()
    list_prefetch_related = ("client",)
    autocomplete_fields = ("client",)
    actions = None
    object_actions = (
        ObjectAction(
            "reverse",
            gettext_lazy("Reverse %(object)s"),
            services.reverse_refund,
            gettext_lazy("Refund reversed."),
            ReasonForm,
            permissions=("billing.reverse_refund",),
        ),
    )
    readonly_fields = (
        "currency",
        "created_at",
        "created_by",
        "reversed_at",
        "reversed_by",
        "reversal_reason",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (
                "client",
                "amount",
                "date",
                "method",
                "reference",
                "note",
                *self.readonly_fields,
            )
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_display(self, refund):
        return format_money(refund.amount, refund.currency)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("date", business_today())
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.record_refund(
            client=data["client"],
            amount=data["amount"],
            date=data["date"],
            method=data["method"],
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            acting_user=request.user,
        ).pk
