"""Every e-mail the gateway sends goes through here, allauth's included.

An e-mail is a template set `templates/emails/<name>/` (subject.txt, body.txt, body.html),
rendered in the addressee's language while the request is at hand, and handed to a task
(Django's tasks API, the django-tasks backport) with the transaction that caused it: a
rolled-back change sends nothing, and a slow or failing mail server never blocks or breaks a
page. In production the database task backend queues it for `manage.py db_worker`, its row
written in that transaction (`send_rendered`); a failed send is tried again later, with
growing pauses, up to MAIL_MAX_ATTEMPTS times.

`send_to_reader` is what the apps call: it knows which address and which language a reader's
e-mail takes. allauth's own e-mails (password reset…) are rendered by the account adapter and
handed to `send_rendered`, so they are queued and retried the same way.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)


def _retry_delay(attempt: int) -> timedelta:
    return timedelta(seconds=settings.MAIL_RETRY_SECONDS * 2 ** (attempt - 1))


@task()
def deliver_email(*, subject: str, body: str, html: str, to: list[str], attempt: int = 1) -> None:
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        if attempt >= settings.MAIL_MAX_ATTEMPTS:
            logger.exception("E-mail %r to %s failed %d times; giving up", subject, to, attempt)
            raise
        logger.warning("E-mail %r to %s failed (attempt %d); retrying", subject, to, attempt)
        retry = deliver_email
        if retry.get_backend().supports_defer:
            retry = retry.using(run_after=timezone.now() + _retry_delay(attempt))
        retry.enqueue(subject=subject, body=body, html=html, to=to, attempt=attempt + 1)


def render_email(name: str, context: dict, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        context = {
            "library_name": settings.LIBRARY_NAME,
            "site_url": settings.SITE_URL,
            "LANGUAGE_CODE": language,
            **context,
        }
        subject = render_to_string(f"emails/{name}/subject.txt", context)
        body = render_to_string(f"emails/{name}/body.txt", context)
        html = render_to_string(f"emails/{name}/body.html", context)
    # A subject is one line: templates end with a newline, headers must not contain one.
    return " ".join(subject.split()), body, html


def send_rendered(*, subject: str, body: str, html: str, to: str) -> None:
    """Queue an e-mail already rendered: with the change that caused it, never without it.

    The database queue (production) writes the e-mail's row in the current transaction: the
    worker sees it when the change commits, and it is rolled back with the change; one commit
    instead of a second one for the e-mail after it (issue 14). Any other backend (the
    development's and the tests' immediate sending) is handed the e-mail once the transaction
    commits.
    """
    enqueue = partial(deliver_email.enqueue, subject=subject, body=body, html=html, to=[to])
    if isinstance(deliver_email.get_backend(), DatabaseBackend):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def send_email(name: str, *, to: str, context: dict, language: str | None = None) -> None:
    """Render e-mail `name` now and send it when the current transaction commits."""
    if not to:
        logger.warning("E-mail %s not sent: no address", name)
        return
    subject, body, html = render_email(name, context, language or settings.LANGUAGE_CODE)
    send_rendered(subject=subject, body=body, html=html, to=to)


def send_to_reader(reader, name: str, context: dict | None = None, *, address: str = "") -> None:
    """E-mail `name` to a reader: at their address, in the language they chose for e-mails.

    `address` sends it elsewhere, still in the reader's language (the old address, when the
    reader's login e-mail was changed). The template gets the reader as `reader`.
    """
    send_email(
        name,
        to=address or reader.email,
        context={"reader": reader, **(context or {})},
        language=reader.language,
    )
