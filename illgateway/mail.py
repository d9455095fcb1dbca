"""Moved to `core.mail`. Kept so that e-mails queued before an upgrade, which name their task as
`illgateway.mail.deliver_email`, are still delivered by the new code."""

from core.mail import deliver_email

__all__ = ["deliver_email"]
