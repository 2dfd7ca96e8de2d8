"""python manage.py create_partner --kind KIND --name NAME [--chain CHAIN] [--carrier CODE]

Prints the new API key alone on the last line of output (shown once; stored hashed)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice.models import Partner
from payments.konbini.chains import CHAINS
from shop.models import Seller, Shipment


class Command(BaseCommand):
    help = "APIパートナーを作成し、APIキーを表示します。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=Partner.Kind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--chain", choices=sorted(CHAINS))
        parser.add_argument("--carrier", choices=Shipment.Carrier.values,
                            help="carrier の配送業者コード（この業者の出荷にだけイベントを登録できます）")

    def handle(self, *args, kind, name, chain=None, carrier=None, **options):
        if kind == Partner.Kind.KONBINI_CHAIN and not chain:
            raise CommandError("--kind konbini_chain には --chain が必要です。")
        if kind != Partner.Kind.KONBINI_CHAIN and chain:
            raise CommandError("--chain は konbini_chain にのみ指定できます。")
        if kind == Partner.Kind.CARRIER and not carrier:
            raise CommandError("--kind carrier には --carrier が必要です（例: --carrier yamato）。")
        if kind != Partner.Kind.CARRIER and carrier:
            raise CommandError("--carrier は carrier にのみ指定できます。")
        with transaction.atomic():
            partner = Partner(kind=kind, name=name, chain=chain or "", carrier=carrier or "")
            if kind == Partner.Kind.SELLER:
                partner.seller = Seller.objects.create(name=name)
            key = partner.issue_key()
            partner.save()
        self.stdout.write(f"Created partner #{partner.pk} {partner.name} ({partner.kind})")
        self.stdout.write(key)
