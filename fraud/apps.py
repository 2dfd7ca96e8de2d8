from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "fraud"
    verbose_name = "不正対策"

    def ready(self) -> None:
        """Attach fraud/ to shop/'s extension points (explicit registrations, no signals)."""
        from fraud import demo
        from fraud.services import addresses
        from shop.management.commands import seed_demo
        from shop.services import hooks

        # A refused COD parcel counts against its address (SPEC §5, seed 004).
        if addresses.record_cod_refusal not in hooks._cod_refused:
            hooks.on_cod_refused(addresses.record_cod_refusal)
        if demo.seed not in seed_demo._EXTRA_SEEDERS:
            seed_demo._EXTRA_SEEDERS.append(demo.seed)
