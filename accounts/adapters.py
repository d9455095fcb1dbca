"""How django-allauth fits the gateway: sign-up creates a pending reader; campus identities
always go through our registration form and are never matched to accounts by e-mail."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from . import sso


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return True


def user_display(user) -> str:
    """How messages name a person: the reader's name, not an internal campus username."""
    reader = getattr(user, "reader", None)
    return reader.name if reader else user.get_username()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_auto_signup_allowed(self, request, sociallogin):
        # The registration form asks for what the ILL office needs (ID, phone, address), which
        # no identity provider releases: every campus reader fills it in once.
        return False

    def get_signup_form_initial_data(self, sociallogin):
        return sso.profile_from_sociallogin(sociallogin)

    def save_user(self, request, sociallogin, form=None):
        # Keep only the e-mail the reader confirmed on the registration form: the addresses the
        # identity provider released would otherwise be stored as verified, and e-mail must
        # never lead to a campus account (password reset, login by e-mail).
        sociallogin.email_addresses = []
        return super().save_user(request, sociallogin, form)
