"""What a reader sees when campus sign-on fails, and what the log says for IT.

Every failure of a login at an identity provider ends on one page in the portal's layout: it
names the identity provider, says in plain words what went wrong, offers to try again and the
off-campus login. The technical reason goes to the log at WARNING, with the provider's id, as

    SSO login failed at identity provider 'carsi' (unavailable): <reason>

The README ("Connecting your identity provider") lists the reasons for the common mistakes.
"""

import logging
from dataclasses import dataclass
from http import HTTPStatus

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("accounts.sso")


@dataclass(frozen=True)
class Failure:
    status: int
    title: str
    explanation: str


FAILURES = {
    # The identity provider cannot be reached or answered nonsense: nothing the reader can do.
    "unavailable": Failure(
        HTTPStatus.SERVICE_UNAVAILABLE,
        _("The campus login of %(idp)s is unavailable right now"),
        _(
            "The gateway could not reach your university's login service. This is not your "
            "fault. Please try again in a few minutes, or log in with a gateway account."
        ),
    ),
    "refused": Failure(
        HTTPStatus.FORBIDDEN,
        _("%(idp)s refused the login"),
        _(
            "Your university's login service did not let this login through to the gateway. "
            "Try again; if it happens again, tell the ILL office the time, so that they can ask "
            "your university's IT department."
        ),
    ),
    "unreadable": Failure(
        HTTPStatus.BAD_REQUEST,
        _("The answer of %(idp)s could not be read"),
        _(
            "The gateway received an answer from your university's login service that it could "
            "not read or could not trust, so you are not logged in. Please try again."
        ),
    ),
    "replayed": Failure(
        HTTPStatus.BAD_REQUEST,
        _("This login answer of %(idp)s was already used"),
        _(
            "Each answer of the login service can be used once, shortly after you started the "
            "login in this browser. This one was used before or has expired (for example after "
            "going back in the browser or reloading the page). Please start the login again."
        ),
    ),
    "unsolicited": Failure(
        HTTPStatus.BAD_REQUEST,
        _("%(idp)s sent a login this browser did not ask for"),
        _(
            "The gateway only accepts a login that was started here, with the campus login "
            "button, for example not from a bookmark of your university's login page. Please "
            "start the login again from the gateway."
        ),
    ),
    "left": Failure(
        HTTPStatus.FORBIDDEN,
        _("%(idp)s no longer takes part in the campus login"),
        _(
            "Your institution has left the federation through which the gateway accepted its "
            "login, so you cannot log in through it any more. Your registration and your "
            "requests are kept: ask the ILL office how to log in from now on."
        ),
    ),
    "no_identifier": Failure(
        HTTPStatus.FORBIDDEN,
        _("%(idp)s did not say who you are"),
        _(
            "Your university's login service confirmed the login but did not release a "
            "lasting identifier for you, so the gateway could not recognise you next time. "
            "This has to be changed by your university's IT department; the ILL office can "
            "tell them what is needed. Meanwhile you can register as an off-campus reader."
        ),
    ),
}


def render_failure(request, *, provider_id, provider_name, kind, reason, login_url=None):
    """The failure page, after logging `reason` for IT. `login_url` is the "try again" form."""
    failure = FAILURES[kind]
    logger.warning("SSO login failed at identity provider %r (%s): %s", provider_id, kind, reason)
    idp = provider_name or provider_id
    return render(
        request,
        "socialaccount/sso_failure.html",
        {
            "failure_title": failure.title % {"idp": idp},
            "failure_explanation": failure.explanation,
            "failure_kind": kind,
            "idp_name": idp,
            "retry_url": login_url,
        },
        status=failure.status,
    )


def render_provider_failure(request, provider, *, kind, reason):
    """`render_failure` for an allauth provider: its id and name, and its login as "try again"."""
    return render_failure(
        request,
        provider_id=provider.sub_id,
        provider_name=provider.name,
        kind=kind,
        reason=reason,
        login_url=provider.get_login_url(request),
    )
