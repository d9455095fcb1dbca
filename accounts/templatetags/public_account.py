"""The login page's word on the public account: how private individuals get in."""

from django import template

from accounts.public import public_account

register = template.Library()


@register.inclusion_tag("accounts/public_account_hint.html")
def public_account_hint():
    return {"public_account": public_account()}
