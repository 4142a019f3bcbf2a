from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Hijack cases"

    def ready(self) -> None:
        from cases.api import schema  # noqa: F401  registers the OpenAPI extension
