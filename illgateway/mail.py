"""Every e-mail the gateway sends goes through here.

An e-mail is a template set `templates/emails/<name>/` (subject.txt, body.txt, body.html),
rendered in the addressee's language while the request is at hand, and handed to a task
(Django's tasks API, the django-tasks backport) once the transaction that caused it commits:
a rolled-back change sends nothing, and a slow or failing mail server never blocks or breaks
a page.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def deliver_email(*, subject: str, body: str, html: str, to: list[str]) -> None:
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def render_email(name: str, context: dict, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        context = {"library_name": settings.LIBRARY_NAME, "site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"emails/{name}/subject.txt", context)
        body = render_to_string(f"emails/{name}/body.txt", context)
        html = render_to_string(f"emails/{name}/body.html", context)
    # A subject is one line: templates end with a newline, headers must not contain one.
    return " ".join(subject.split()), body, html


def send_email(name: str, *, to: str, context: dict, language: str | None = None) -> None:
    """Render e-mail `name` now and send it when the current transaction commits."""
    if not to:
        logger.warning("E-mail %s not sent: no address", name)
        return
    subject, body, html = render_email(name, context, language or settings.LANGUAGE_CODE)
    transaction.on_commit(
        lambda: deliver_email.enqueue(subject=subject, body=body, html=html, to=[to])
    )
