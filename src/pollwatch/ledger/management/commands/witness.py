"""`pollwatch witness`: run a C2SP tlog-witness for other organisations' logs.

    pollwatch witness keygen NAME --out FILE      # a new cosignature key; prints its vkey
    pollwatch witness serve --key @FILE --log VKEY [--log VKEY ...] --state FILE --port N

A witness is run by someone other than the log's operator; it needs no database, only its key
file and its state file (see `pollwatch.ledger.witness`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import CommandHelp
from pollwatch.core.tlog import TlogError
from pollwatch.core.tlog.cosignature import CosignatureSigner
from pollwatch.core.tlog.note import Ed25519Verifier
from pollwatch.ledger.witness import Witness, WitnessState
from pollwatch.ledger.witness_server import make_witness_server

_UNREADABLE_KEY = gettext_lazy("cannot read the witness key %(path)s: %(error)s")
_UNREADABLE_LOG_KEY = gettext_lazy("cannot read the log key %(path)s: %(error)s")


def _text(value: str, unreadable: Promise) -> str:
    """The value, or with @FILE the file's text; ``unreadable`` is the whole sentence said
    when the file cannot be read (%(path)s, %(error)s)."""
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(str(unreadable) % {"path": value[1:], "error": error}) from None


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy("Run a transparency-log witness (C2SP tlog-witness), or make its key.")
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{keygen,serve}")
        keygen = actions.add_parser("keygen", help=_("make a new witness key"))
        keygen.add_argument("name", help=_("the witness's key name, e.g. witness.example.org"))
        keygen.add_argument("--out", required=True, help=_("file for the secret key (0600)"))
        serve = actions.add_parser("serve", help=_("serve add-checkpoint"))
        serve.add_argument("--key", required=True, help=_("the witness's secret key, or @file"))
        serve.add_argument(
            "--log",
            action="append",
            required=True,
            help=_("a log's verifier key, or @file (repeatable); its name is the log's origin"),
        )
        serve.add_argument("--state", required=True, help=_("the witness's state file"))
        serve.add_argument(
            "--host", default="127.0.0.1", help=_("address to listen on (default %(default)s)")
        )
        serve.add_argument("--port", type=int, required=True, help=_("port to listen on"))
        serve.add_argument("--prefix", default="", help=_("URL path before /add-checkpoint"))

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "keygen":
            self._keygen(options)
        else:
            self._serve(options)

    def _keygen(self, options: dict[str, Any]) -> None:
        try:
            signer = CosignatureSigner.generate(options["name"])
        except TlogError as error:
            raise CommandError(str(error)) from None
        try:
            fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise CommandError(
                _("cannot create %(path)s: %(error)s") % {"path": options["out"], "error": error}
            ) from None
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(signer.key_string() + "\n")
        self.stdout.write(signer.verifier().key_string())

    def _serve(self, options: dict[str, Any]) -> None:
        try:
            signer = CosignatureSigner.from_key_string(_text(options["key"], _UNREADABLE_KEY))
            logs = [
                Ed25519Verifier.from_key_string(_text(value, _UNREADABLE_LOG_KEY))
                for value in options["log"]
            ]
            state = WitnessState(Path(options["state"]))
        except (TlogError, ValueError) as error:
            raise CommandError(str(error)) from None
        server = make_witness_server(
            Witness(signer, logs, state), options["host"], options["port"], options["prefix"]
        )
        self.stdout.write(
            _("witness %(name)s for %(logs)s on http://%(host)s:%(port)s%(prefix)s/add-checkpoint")
            % {
                "name": signer.name,
                "logs": ", ".join(log.name for log in logs),
                "host": options["host"],
                "port": server.server_port,
                "prefix": options["prefix"].rstrip("/"),
            }
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
