from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "決済・返金"

    def ready(self) -> None:
        # Explicit extension point (no signals): seed_demo creates a failed refund and a
        # bank-transfer refund waiting for its batch.
        from payments import demo
        from shop.management.commands import seed_demo

        if demo.seed not in seed_demo._EXTRA_SEEDERS:
            seed_demo._EXTRA_SEEDERS.append(demo.seed)
