"""What the office forms of every app share: a form only turns what was typed into values;
the operation (``services.py``) checks the rules and says what is wrong."""

from django import forms

from otb.operations import DomainError


class OperationModelForm(forms.ModelForm):
    """A ModelForm for the fields and initial values only. The model is validated by the
    operation the view calls (``full_clean`` and uniqueness, in its transaction), not here,
    so every caller gets the same checks and the same messages."""

    def _post_clean(self):
        pass


def show_refusal(form: forms.Form, exc: DomainError, formset=None) -> None:
    """Put an operation's refusal on the form, next to the field it is about. With the
    invoice form's ``formset``, "lines.2.quantity" goes to the third line in use; what no
    field of the page matches goes to the top of the form."""
    errors = getattr(exc, "errors", None) or {exc.field: [exc.message]}
    for key, messages in errors.items():
        parts = (key or "").split(".")
        if formset is not None and parts[0] == "lines" and len(parts) == 3:
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
