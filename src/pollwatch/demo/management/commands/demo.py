import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import CommandHelp
from pollwatch.demo.accounts import credentials_path, current_totp_code, ensure_demo_accounts
from pollwatch.demo.election import existing_demo_election, load_demo_election
from pollwatch.demo.observers import link_demo_accounts
from pollwatch.findings.models import Finding


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Set up and serve the demo: migrate the database, generate and load a realistic "
            "national referendum, create one account per role, start the server."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help=_("port on 127.0.0.1"))
        parser.add_argument(
            "--stations", type=int, default=None, help=_("stations to generate (default ~10,400)")
        )
        parser.add_argument(
            "--no-serve", action="store_true", help=_("set everything up, do not start the server")
        )
        parser.add_argument(
            "--code",
            metavar="USERNAME",
            help=_("print the current two-factor code of a demo staff account, and exit"),
        )

    def handle(
        self,
        *args: Any,
        port: int,
        stations: int | None,
        no_serve: bool,
        code: str | None,
        **options: Any,
    ) -> None:
        if code is not None:
            try:
                self.stdout.write(current_totp_code(code))
            except LookupError as error:
                raise CommandError(str(error)) from None
            return
        call_command("migrate", interactive=False, verbosity=0)
        election = existing_demo_election()
        if election is None:
            self.stdout.write(_("Generating and loading the demo election…"))
            election = load_demo_election(stations)
        else:
            self.stdout.write(_("Reusing the demo election loaded earlier."))
        self.stdout.write(
            _("Election: %(name)s — %(stations)s polling stations")
            % {"name": election.name, "stations": f"{election.stations.count():,}"}
        )
        found = (
            Finding.objects.filter(election=election, present=True)
            .values_list("kind")
            .annotate(count=Count("id"))
            .order_by("kind")
        )
        self.stdout.write(
            _("Findings: %(kinds)s")
            % {"kinds": ", ".join(f"{kind} {count:,}" for kind, count in found)}
        )
        accounts = ensure_demo_accounts()
        demo_observer = link_demo_accounts(election)
        self.stdout.write(_("Demo accounts (also in %(path)s):") % {"path": credentials_path()})
        for account in accounts:
            self.stdout.write(f"  {account.role:<14} {account.username:<12} {account.password}")
        self.stdout.write(
            _(
                "Staff accounts also ask for a two-factor code: add their key to an "
                "authenticator app, or print the current code with: pollwatch demo --code admin"
            )
        )
        for account in accounts:
            if account.totp_key:
                self.stdout.write(f"  {account.username:<12} {account.totp_key}")
        if demo_observer is not None:
            self.stdout.write(
                _(
                    "The observer account is %(name)s of %(organisation)s, assigned to polling "
                    "station %(number)s, whose protocol copy is missing; the coordinator "
                    "account coordinates %(organisation)s."
                )
                % {
                    "name": demo_observer.observer.full_name,
                    "organisation": demo_observer.observer.organisation.name,
                    "number": demo_observer.station.number,
                }
            )
        # Seal what was loaded in the transparency log, so receipts and the log page work.
        call_command("integrate", "--once", verbosity=0)
        url = f"http://127.0.0.1:{port}/"
        if no_serve:
            self.stdout.write(_("Ready. Serve it with: pollwatch demo"))
            return
        self.stdout.write(self.style.SUCCESS(_("Serving pollwatch at %(url)s") % {"url": url}))
        # The log's integrator is a process of its own (one at a time, as in production): it
        # seals each new submission within a second, so observers see their receipts.
        integrator = subprocess.Popen([sys.executable, "-m", "pollwatch", "integrate"])
        # Stopped with SIGTERM, the demo must still stop its integrator (the finally below).
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
        try:
            # The demo serves with Django's development server: one process, static files.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            integrator.terminate()
            integrator.wait(timeout=10)
