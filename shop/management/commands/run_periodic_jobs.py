"""Run every registered periodic job once, in-process, and print what each did.

Each job runs on its own (``jobs.run_isolated``): one that raises — the refund sweep with the
database gone, say — is logged and reported, and every later job (the outbox relay last) still
runs. The command exits non-zero only after all of them ran, naming the ones that failed."""

from django.core.management.base import BaseCommand, CommandError

from backoffice import jobs


class Command(BaseCommand):
    help = "定期ジョブをすべて1回実行します。"

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", help="run only these jobs")

    def handle(self, *args, only=None, **options):
        failed = []
        for name, job in jobs.load_all().items():
            if only and name not in only:
                continue
            outcome = jobs.run_isolated(job)
            if outcome.ok:
                self.stdout.write(f"{name}: {outcome.result}  ({job.description})")
            else:
                failed.append(name)
                self.stdout.write(f"{name}: FAILED {outcome.error}  ({job.description})")
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
