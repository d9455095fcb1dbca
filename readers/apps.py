from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadersConfig(AppConfig):
    name = "readers"
    verbose_name = _("Readers and notices")

    def ready(self):
        from django.db.models.signals import post_migrate

        from core.model_text import clean_text_on_save

        from .staff import ensure_staff_group

        # Text is stored without invisible characters, whatever path it comes by (core.text).
        clean_text_on_save(*self.get_models())

        # After the last app's migrations, when every model's permissions exist.
        post_migrate.connect(ensure_staff_group, dispatch_uid="readers.ensure_staff_group")
