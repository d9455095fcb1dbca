from django.apps import AppConfig

# Registers the deployment checks (`manage.py check --deploy`).
from illgateway import checks  # noqa: F401


class IllgatewayConfig(AppConfig):
    name = "illgateway"
    verbose_name = "ILL Reader Gateway"
