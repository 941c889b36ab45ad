import re
from email.utils import parseaddr, quote

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Client
from otb.forms import OperationModelForm

# What a name must be quoted for in "Name <address>" (as email.utils.formataddr quotes).
_NEEDS_QUOTES = re.compile(r'[][\\()<>@,:;".]')


def contact_line(name: str, email: str) -> str:
    """One of a client's other contacts as the form shows it: ``Name <address>``, or the
    address alone; ``contacts_from_text`` reads it back."""
    if not name:
        return email
    shown = f'"{quote(name)}"' if _NEEDS_QUOTES.search(name) else name
    return f"{shown} <{email}>"


def contacts_from_text(text: str) -> list[dict[str, str]]:
    """The contacts typed one a line, ``Name <address>`` or the address alone, as the
    operation takes them; blank lines are none. A line that is no address is passed on
    as typed, for the operation to say so."""
    contacts = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, email = parseaddr(line)
        contacts.append({"name": name, "email": email} if email else {"name": "", "email": line})
    return contacts


class ClientForm(OperationModelForm):
    # Text: one contact a line; the operation checks each address.
    contacts = forms.CharField(
        label=_("Other contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "One a line: Name <address>, or the address alone. Like the e-mail above, each "
            "address is on file for the client: it may sign in to the client's portal."
        ),
    )

    class Meta:
        model = Client
        fields = [
            "code",
            "name",
            "contact_person",
            "email",
            "contacts",
            "phone",
            "address",
            "country",
            "default_currency",
            "tax_number",
            "uses_default_taxes",
            "tax_exempt",
            "taxes",
            "is_active",
            "notes",
        ]
        widgets = {
            "taxes": forms.CheckboxSelectMultiple,
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "code": forms.TextInput(attrs={"autocapitalize": "characters"}),
            "country": forms.TextInput(attrs={"autocapitalize": "characters", "size": 2}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["contacts"] = "\n".join(
                contact_line(contact.name, contact.email)
                for contact in self.instance.contacts.all()
            )

    def clean_contacts(self) -> list[dict[str, str]]:
        return contacts_from_text(self.cleaned_data["contacts"])


class ClientSearchForm(forms.Form):
    ACTIVE_CHOICES = [
        ("active", _("Active")),
        ("inactive", _("Inactive")),
        ("all", _("All")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    active = forms.ChoiceField(label=_("Show"), choices=ACTIVE_CHOICES, required=False)
