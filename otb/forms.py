"""What the office forms of every app share: a form only turns what was typed into values;
the operation (``services.py``) checks the rules and says what is wrong."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from otb.numbers import NumberRefused, largest, plain_decimal, plain_text
from otb.operations import DomainError


class PlainDecimalField(forms.DecimalField):
    """A number field that takes plain decimal notation only ("1e5" is refused, not read as
    100000), says which field a refusal is about, and shows numbers without trailing zeros
    ("12.5", not "12.500"). Every form of the pages and the admin reads numbers with it
    (``otb.fields.DecimalField.formfield``)."""

    # A text box: a number box would let the browser read "1e5" as 100000 before we see it.
    widget = forms.TextInput

    def __init__(self, *, max_digits=None, decimal_places=None, validators=(), **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        # The range and places are plain_decimal's checks, with its messages; Django's would
        # say "Ensure this value is greater than or equal to 0.01." without naming the field.
        self.validators = list(validators)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for name in ("step", "min", "max"):
            attrs.pop(name, None)
        attrs["inputmode"] = "decimal"
        return attrs

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        maximum = self.max_value
        if maximum is None and self.max_digits is not None and self.decimal_places is not None:
            maximum = largest(max_digits=self.max_digits, decimal_places=self.decimal_places)
        try:
            return plain_decimal(
                value,
                label=self.label or "",
                decimal_places=self.decimal_places,
                minimum=None if self.min_value is None else Decimal(self.min_value),
                maximum=None if maximum is None else Decimal(maximum),
            )
        except NumberRefused as exc:
            raise ValidationError(str(exc), code="invalid") from None

    def validate(self, value):
        forms.Field.validate(self, value)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            # Amounts keep their cents ("113.00"); quantities, prices, rates and percents
            # lose the zeros of their stored precision ("12.5", not "12.500").
            return f"{value:.2f}" if self.decimal_places == 2 else plain_text(value)
        return value


class NamedErrorsMixin:
    """Every refusal names its field ("Amount: enter a number", not "Enter a number."),
    also where the message is Django's own (SPEC: Bad input)."""

    def full_clean(self):
        super().full_clean()
        for name, errors in list(self._errors.items()):
            field = self.fields.get(name)
            if field is None or not field.label:
                continue
            label = str(field.label)
            messages = [str(m) for error in errors.as_data() for m in error.messages]
            self._errors[name] = self.error_class(
                [m if m.startswith(label) else f"{label}: {m}" for m in messages],
                renderer=self.renderer,
            )


class Form(NamedErrorsMixin, forms.Form):
    """The office pages' forms."""


class OperationModelForm(NamedErrorsMixin, forms.ModelForm):
    """A ModelForm for the fields and initial values only. The model is validated by the
    operation the view calls (``full_clean`` and uniqueness, in its transaction), not here,
    so every caller gets the same checks and the same messages."""

    def _post_clean(self):
        pass


def show_refusal(form: forms.Form, exc: DomainError, formset=None) -> None:
    """Put an operation's refusal on the form, next to the field it is about. With a
    ``formset`` (the invoice form's lines, a service's prices) that has ``forms_in_use``,
    "lines.2.quantity" goes to the third row in use of the formset of prefix "lines"; what
    no field of the page matches goes to the top of the form."""
    errors = getattr(exc, "errors", None) or {exc.field: [exc.message]}
    for key, messages in errors.items():
        parts = (key or "").split(".")
        if formset is not None and parts[0] == formset.prefix and len(parts) == 3:
            in_use = formset.forms_in_use()
            index = int(parts[1]) if parts[1].isdigit() else -1
            if 0 <= index < len(in_use) and parts[2] in in_use[index].fields:
                for message in messages:
                    in_use[index].add_error(parts[2], message)
                continue
        field = form.fields.get(key) if key else None
        target = key if field is not None and not field.disabled else None
        for message in messages:
            form.add_error(target, message)
