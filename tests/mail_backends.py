"""A mail server that is down for a while: fails the first `failures` sends, then delivers."""

from django.core.mail.backends.locmem import EmailBackend


class FlakyEmailBackend(EmailBackend):
    failures = 0
    attempts = 0

    def send_messages(self, messages):
        FlakyEmailBackend.attempts += 1
        if FlakyEmailBackend.failures > 0:
            FlakyEmailBackend.failures -= 1
            raise ConnectionRefusedError("mail server down")
        return super().send_messages(messages)
