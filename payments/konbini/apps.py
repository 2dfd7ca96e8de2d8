from django.apps import AppConfig


class KonbiniConfig(AppConfig):
    name = "payments.konbini"
    label = "konbini"
    verbose_name = "コンビニ支払い"

    def ready(self) -> None:
        # Explicit extension points (no signals): the order resource shows the code, and
        # seed_demo creates a pending order with a Lawson code.
        from payments.konbini import demo
        from payments.konbini.selectors import order_konbini_code
        from shop import selectors
        from shop.management.commands import seed_demo

        if order_konbini_code not in selectors._KONBINI_PROVIDERS:
            selectors._KONBINI_PROVIDERS.append(order_konbini_code)
        if demo.seed not in seed_demo._EXTRA_SEEDERS:
            seed_demo._EXTRA_SEEDERS.append(demo.seed)
