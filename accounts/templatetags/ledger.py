"""`{% payment_due ill_request as due %}`: what a request awaiting payment still needs, live."""

from django import template

from accounts.ledger import CENT, ZERO, ledger_balance

register = template.Library()


@register.simple_tag
def payment_due(ill_request) -> dict:
    """Amount due (the request's `total_fee`), the reader's balance and the difference."""
    due = ill_request.total_fee.quantize(CENT)  # SQLite's sum drops the scale
    balance = ledger_balance(ill_request.reader)
    return {"due": due, "balance": balance, "shortfall": max(due - max(balance, ZERO), ZERO)}
