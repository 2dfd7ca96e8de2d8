from django.apps import AppConfig


class PickupConfig(AppConfig):
    name = "pickup"
    verbose_name = "コンビニ受取"

    def ready(self) -> None:
        """Attach pickup/ to shop/'s extension points (explicit registrations, no signals)."""
        from pickup import demo, selectors
        from pickup.services import parcels
        from shop import selectors as shop_selectors
        from shop.management.commands import seed_demo
        from shop.models import ShipmentEvent
        from shop.services import shipments

        shipments.register_handler(ShipmentEvent.Type.ARRIVED_AT_STORE, parcels.on_arrived_at_store)
        if selectors.pickup_block not in shop_selectors._PICKUP_PROVIDERS:
            shop_selectors._PICKUP_PROVIDERS.append(selectors.pickup_block)
        if demo.seed not in seed_demo._EXTRA_SEEDERS:
            seed_demo._EXTRA_SEEDERS.append(demo.seed)
