"""How django-allauth fits the gateway: who may sign up, where people land after login."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Off-campus registration has its own page with the reader profile fields; allauth's
        # bare username/password sign-up would create accounts without a profile.
        return False
