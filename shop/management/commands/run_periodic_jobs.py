"""Run every registered periodic job once, in-process, and print what each did."""

from django.core.management.base import BaseCommand

from backoffice import jobs


class Command(BaseCommand):
    help = "定期ジョブをすべて1回実行します。"

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", help="run only these jobs")

    def handle(self, *args, only=None, **options):
        for name, job in jobs.load_all().items():
            if only and name not in only:
                continue
            result = job.func()
            self.stdout.write(f"{name}: {result}  ({job.description})")
