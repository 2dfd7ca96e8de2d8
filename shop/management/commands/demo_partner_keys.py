"""Fresh API keys for the demo partners, printed ready to paste (``make run`` prints them).

A key is stored only as its digest, so the keys seed_demo made cannot be shown again: this
issues new ones (the previous demo keys stop working). Demo only: refused in production mode.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice.models import Partner

DEMO_PARTNERS = ["デモストアフロント", "川崎倉庫", "ヤマト運輸", "ローソン", "ファミリーマート", "北海道うまいもの市場"]


class Command(BaseCommand):
    help = "デモ用パートナーのAPIキーを発行し直して表示します（デモ専用）。"

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_partner_keys はデモ専用です（DJANGO_SECURE=true の本番環境では実行できません）。")
        rows = []
        with transaction.atomic():
            for partner in Partner.objects.filter(name__in=DEMO_PARTNERS, active=True).order_by("pk"):
                key = partner.issue_key()
                partner.save(update_fields=["key_digest", "key_prefix"])
                rows.append((partner.kind, partner.name, key))
        if not rows:
            self.stdout.write("  no demo partners (run `python manage.py seed_demo` first)")
            return
        self.stdout.write("  Partner API keys (demo; new each time, header `Authorization: Bearer <key>`):")
        for kind, name, key in rows:
            self.stdout.write(f"    {kind:<14} {name:<14} {key}")
        self.stdout.write('    e.g. curl -H "Authorization: Bearer <storefront key>" http://127.0.0.1:${PORT:-8000}/api/v1/ping')
