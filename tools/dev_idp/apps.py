from django.apps import AppConfig


class DevIdPConfig(AppConfig):
    name = "tools.dev_idp"
    label = "dev_idp"
    verbose_name = "Development identity provider"
