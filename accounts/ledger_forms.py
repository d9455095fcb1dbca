"""Forms of the prepaid account: staff's entry form, and the date range of statements."""

import secrets

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from core.forms import CleanTextFormMixin

from .ledger import STAFF_KINDS
from .models import EntryKind, LedgerEntry, PaymentMethod

# Dates a date input can send and every database stores.
FIRST_DAY = "2000-01-01"
LAST_DAY = "2999-12-31"


class DateRangeForm(forms.Form):
    """From and to (both included); either may be left out. Bad dates show beside the field."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, require_both=False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = require_both
            field.widget.attrs.update({"min": FIRST_DAY, "max": LAST_DAY})

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not (FIRST_DAY <= day.isoformat() <= LAST_DAY):
                self.add_error(name, _("Give a date between 2000 and 2999."))
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        return data

    @property
    def range(self):
        if not self.is_bound or not self.is_valid():
            return None, None
        return self.cleaned_data.get("start"), self.cleaned_data.get("end")


def new_token() -> str:
    return secrets.token_hex(16)


class EntryForm(CleanTextFormMixin, forms.Form):
    """Staff's form on a reader's account: it only ever adds an entry (accounts.ledger)."""

    # A new one each time the form is shown; sent back with it, it makes recording idempotent.
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", initial=new_token, widget=forms.HiddenInput)

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(kind.value, kind.label) for kind in EntryKind if kind in STAFF_KINDS],
        help_text=_(
            "Deposit: money paid in (at the desk, by transfer). Refund: gives back a request's "
            "charge. Adjustment: corrects a mistake, above or below 0. Debt settlement: pays "
            "off a negative balance."
        ),
    )
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        max_digits=10,
        decimal_places=2,
        help_text=_("Above 0; only an adjustment that takes money off is below 0."),
    )
    method = forms.ChoiceField(
        label=_("Payment method"),
        choices=[("", "---------"), *PaymentMethod.choices],
        required=False,
        help_text=_("For deposits and debt settlements."),
    )
    request_number = forms.IntegerField(
        label=_("Request number"),
        required=False,
        validators=[MinValueValidator(1), MaxValueValidator(2_147_483_647)],
        help_text=_(
            "For a refund: the request whose charge is given back. For a deposit: the request "
            "awaiting payment that it pays for (the request then goes on)."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=LedgerEntry._meta.get_field("note").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
