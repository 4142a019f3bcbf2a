from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Hijack cases"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from cases.api import schema  # noqa: F401  registers the OpenAPI extension
        from cases.middleware import preferences_on_login
        from cases.signin import on_signed_in

        user_logged_in.connect(preferences_on_login, dispatch_uid="cases.preferences_on_login")
        user_logged_in.connect(on_signed_in, dispatch_uid="cases.signin.on_signed_in")
