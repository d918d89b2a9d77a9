"""`pollwatch serve`: the production web server (Granian, serving pollwatch's WSGI application).

    pollwatch serve                              # 127.0.0.1:8000, a worker per core
    pollwatch serve --host 0.0.0.0 --port 8080 --workers 4 --threads 8

Why Granian: its HTTP layer is Rust, so parsing requests and writing responses costs the app
processes almost nothing, and it serves the collected static files itself; Django sees only
the requests that need it. Each worker is a process with its own database connections (one per
thread, kept open); several workers, or several machines behind a load balancer, share nothing
but the database. TLS belongs to the reverse proxy in front (DESIGN §7). The log's integrator
is a separate process: run `pollwatch integrate` beside this.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import CommandHelp

WSGI_APPLICATION = "pollwatch.wsgi:application"


class Command(BaseCommand):
    help = CommandHelp(gettext_lazy("Serve pollwatch over HTTP with a production server."))

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
        parser.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help=_("worker processes (default: one per core)"),
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=8,
            help=_("requests each worker serves at once (default %(default)s)"),
        )
        parser.add_argument(
            "--access-log", action="store_true", help=_("log every request to standard error")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError(_("--workers and --threads must be at least 1"))
        # Static files are served from the collected copy, never through Django.
        call_command("collectstatic", interactive=False, verbosity=0)
        server = Granian(
            WSGI_APPLICATION,
            address=options["host"],
            port=options["port"],
            interface=Interfaces.WSGI,
            workers=options["workers"],
            blocking_threads=options["threads"],
            log_access=options["access_log"],
            static_path_route=[f"/{settings.STATIC_URL.strip('/')}"],
            static_path_mount=[settings.STATIC_ROOT],
        )
        server.serve()
