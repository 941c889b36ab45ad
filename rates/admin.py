"""The back office of exchange rates. Every write goes through rates.services (see
otb.admin.OperationAdmin); the admin only collects input and shows what they answer."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from otb.admin import OperationAdmin
from otb.forms import OperationModelForm
from otb.numbers import format_number

from .forms import DATE_INPUT
from .models import ExchangeRate
from .services import RATE_FIELDS, delete_rate, record_rate, update_rate


class ExchangeRateAdminForm(OperationModelForm):
    """The operation checks the rate, currency and day, with messages naming the field,
    instead of the model's constraints ("Constraint … is violated")."""

    class Meta:
        model = ExchangeRate
        fields = ["currency", "date", "rate", "source"]
        widgets = {"date": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "source" in self.fields:
            self.fields["source"].required = False  # the operation's default: typed in


@admin.register(ExchangeRate)
class ExchangeRateAdmin(OperationAdmin):
    form = ExchangeRateAdminForm
    list_display = ("date", "currency", "rate_display", "base_currency", "source", "created_by")
    list_display_links = ("date", "currency")
    list_filter = ("currency", "source")
    search_fields = ("currency", "source")
    date_hierarchy = "date"
    list_select_related = ("created_by",)
    fields = ("currency", "date", "rate", "source", "base_currency", "created_by")
    readonly_fields = ("base_currency", "created_by")

    @admin.display(description=_("rate"), ordering="rate")
    def rate_display(self, rate):
        return format_number(rate.rate)

    def save_model(self, request, obj, form, change):
        fields = {k: v for k, v in form.cleaned_data.items() if k in RATE_FIELDS}
        if change:
            saved = update_rate(rate_row=obj, acting_user=request.user, **fields)
        else:
            saved = record_rate(acting_user=request.user, **fields)
        # The page's messages and history name the row as it was saved.
        for field in ExchangeRate._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request, obj):
        delete_rate(rate_row=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for rate in queryset:
            delete_rate(rate_row=rate, acting_user=request.user)
