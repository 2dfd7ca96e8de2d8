from django.apps import AppConfig


class ReceiptsConfig(AppConfig):
    name = "receipts"
    verbose_name = "領収書"

    def ready(self) -> None:
        # Start-up check, not an extension point: a receipt must never print a wrong T-number.
        from receipts import issuer

        issuer.check_settings()
