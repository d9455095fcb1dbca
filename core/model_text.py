"""Model-side cleaning of text: the net under every form, service, import and OpenURL."""

from django.db import models
from django.db.models.signals import pre_save

from .text import clean_text


def clean_text_fields(instance) -> None:
    """Clean every text column of `instance` in place (TextField keeps its line breaks)."""
    for field in instance._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)):
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str):
            multiline = isinstance(field, models.TextField)
            setattr(instance, field.attname, clean_text(value, multiline=multiline))


def _clean_before_save(sender, instance, raw=False, **kwargs):
    if not raw:  # fixtures are loaded as they are
        clean_text_fields(instance)


def clean_text_on_save(*model_classes) -> None:
    """Have these models' text cleaned on every save (call from the app's ready())."""
    for model in model_classes:
        pre_save.connect(
            _clean_before_save, sender=model, dispatch_uid=f"core.clean_text.{model._meta.label}"
        )
