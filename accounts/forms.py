"""Registration forms: off-campus sign-up (username and password) and campus SSO sign-up.

Both add the reader profile fields to allauth's forms and create the pending reader in the
same transaction as the user, so a registration is saved whole or not at all.
"""

from allauth.account.forms import ResetPasswordForm, SignupForm
from allauth.socialaccount.forms import SignupForm as SocialSignupForm
from django import forms
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.forms import CleanTextFormMixin
from readers.forms import ReaderProfileForm
from readers.models import ReaderType
from readers.services import reader_register

from . import sso
from .legacy_link import legacy_find


class ProfileFieldsMixin:
    """Adds the profile fields and their cleaning (from ReaderProfileForm) to an allauth form."""

    profile_form_class = ReaderProfileForm

    def _add_profile_fields(self):
        profile = self.profile_form_class()
        for name, field in profile.fields.items():
            if name in ("email", "language"):
                # allauth's own e-mail field is the reader's e-mail; the language is the one
                # the reader registers in.
                continue
            self.fields[name] = field
        self.fields["email"].label = _("E-mail")
        self.fields["email"].required = True

    def _clean_with_profile_form(self):
        profile = self.profile_form_class(data=self._profile_data())
        profile.is_valid()
        for name, errors in profile.errors.items():
            if name in self.fields and name not in self.errors:
                for error in errors.as_data():
                    self.add_error(name, error)
        for name in profile.fields:
            if name in profile.cleaned_data and name != "email":
                self.cleaned_data[name] = profile.cleaned_data[name]

    def _profile_data(self):
        data = {name: self.data.get(self.add_prefix(name), "") for name in self.fields}
        data["email"] = self.cleaned_data.get("email") or "placeholder@example.org"
        return data

    def _profile(self):
        profile = {
            name: self.cleaned_data.get(name) for name in self.profile_form_class.Meta.fields
        }
        profile["email"] = (self.cleaned_data.get("email") or "").lower()
        return profile


class OffCampusSignupForm(CleanTextFormMixin, ProfileFieldsMixin, SignupForm):
    """Registration of a reader of another institution, on the off-campus page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_profile_fields()
        self.fields["institution"].required = True

    def clean_username(self):
        # An old system's username is its owner's: they log in with it and the old password
        # (seed 2.1) and keep it as their gateway login (accounts.legacy_views).
        username = super().clean_username()
        if username and legacy_find(username) is not None:
            raise forms.ValidationError(
                _(
                    "This is the username of an account of the old system. If it is yours, log "
                    "in with it and its old password; otherwise choose another."
                ),
                code="old_username",
            )
        return username

    def clean(self):
        cleaned = super().clean()
        self._clean_with_profile_form()
        return cleaned

    def save(self, request):
        with transaction.atomic():
            return super().save(request)

    def custom_signup(self, request, user):
        reader_register(
            user=user,
            reader_type=ReaderType.OFF_CAMPUS,
            profile=self._profile(),
            language=get_language(),
        )


class CampusSignupForm(CleanTextFormMixin, ProfileFieldsMixin, SocialSignupForm):
    """First campus login: complete what the identity provider did not release."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("username", None)
        self._add_profile_fields()
        self.provided = sso.profile_from_sociallogin(self.sociallogin)
        campus_id = self.provided.get("campus_id")
        if campus_id:
            self.fields["campus_id"] = forms.CharField(
                label=_("Campus ID"), initial=campus_id, disabled=True, required=False
            )
        self.order_fields(
            ["name", "email", "campus_id", "institution", "id_type", "id_number", "phone"]
        )

    def clean(self):
        cleaned = super().clean()
        self._clean_with_profile_form()
        # The username is never shown to a campus reader: an opaque, stable one is made from
        # the provider and its subject identifier.
        cleaned["username"] = sso.username_for(self.sociallogin)
        return cleaned

    def save(self, request):
        with transaction.atomic():
            return super().save(request)

    def custom_signup(self, request, user):
        profile = self._profile()
        # Not on the form: what the campus login said, for the ILL office to see.
        profile["campus_id"] = self.provided.get("campus_id", "")[:50]
        profile["affiliation"] = self.provided.get("affiliation", "")
        reader_register(
            user=user, reader_type=ReaderType.CAMPUS, profile=profile, language=get_language()
        )


class PasswordResetForm(ResetPasswordForm):
    """Password reset only for accounts that log in with a password.

    A campus account has no password: it logs in through single sign-on, and e-mail is no proof
    of being that person (SPEC 2). Resetting it by e-mail would hand it a password.
    """

    def clean_email(self):
        email = super().clean_email()
        self.users = [user for user in self.users if user.has_usable_password()]
        return email
