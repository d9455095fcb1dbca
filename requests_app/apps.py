from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("ILL requests")

    def ready(self):
        from core.model_text import clean_text_on_save

        # Text is stored without invisible characters, whatever path it comes by (core.text).
        clean_text_on_save(*self.get_models())

        from accounts.dues import register_due_source

        from .payments import RequestDues

        # The ledger (below this app) asks here what a reader owes for requests.
        register_due_source(RequestDues())
