"""The reader profile form, shared by both registrations and the profile page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import CleanTextFormMixin
from core.validators import normalize_phone, normalize_postal_code, to_halfwidth

from .models import PROFILE_FIELDS, Reader

REQUIRED = {"name", "email", "id_type", "id_number", "phone"}


class ReaderProfileForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = Reader
        fields = [*PROFILE_FIELDS, "language"]
        labels = {
            "language": _("Language of e-mails"),
            "name": _("Name"),
            "email": _("E-mail"),
            "id_type": _("ID type"),
            "id_number": _("ID number"),
            "phone": _("Phone"),
            "address": _("Postal address"),
            "postal_code": _("Postal code"),
            "institution": _("Department or institution"),
        }
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }

    def __init__(self, *args, fixed_identity=False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in REQUIRED & set(self.fields):
            self.fields[name].required = True
        # The limit in words is the model's, not a second copy of it.
        self.fields["address"].help_text = _("At most %(max_length)s characters.") % {
            "max_length": self.fields["address"].max_length
        }
        if fixed_identity:
            # After confirmation the ID is what staff checked: only staff may change it.
            for name in ("id_type", "id_number"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "Fixed after confirmation; ask the ILL office to change it."
                )

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    def clean_postal_code(self):
        value = self.cleaned_data["postal_code"]
        return normalize_postal_code(value) if value else value

    def clean_id_number(self):
        return " ".join(to_halfwidth(self.cleaned_data["id_number"]).upper().split())

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


def profile_fields():
    """Fresh copies of the profile fields, to add to forms that are not model forms."""
    return ReaderProfileForm().fields
