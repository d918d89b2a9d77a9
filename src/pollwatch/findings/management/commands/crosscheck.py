"""pollwatch crosscheck: recompute every cross-check finding of an election."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import (
    CommandHelp,
    add_progress_argument,
    progress_bar,
    reported_as_command_error,
)
from pollwatch.core.crosscheck import CrosscheckInputError
from pollwatch.findings.inputs import InputsError
from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import STAGES, recheck_election
from pollwatch.findings.recording import RecordingError
from pollwatch.registry.models import Election


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Cross-check an election's current protocol copies and official results and record "
            "the findings: new ones are added, vanished ones resolved, human decisions kept."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--election", required=True, metavar="SLUG", help=_("election slug"))
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            election = Election.objects.select_related("template").get(slug=options["election"])
        except Election.DoesNotExist:
            raise CommandError(
                _("No election with the slug %(slug)s.") % {"slug": options["election"]}
            ) from None
        with (
            reported_as_command_error(RecordingError, InputsError, CrosscheckInputError),
            progress_bar(options, desc=_("cross-checking"), total=len(STAGES)) as bar,
        ):

            def advance(stage: str) -> None:
                if stage != STAGES[0]:
                    bar.update(1)
                bar.set_postfix_str(stage)

            counts = recheck_election(election, progress=advance)
            bar.update(1)
        self.stdout.write(
            _(
                "%(new)d new, %(updated)d updated, %(unchanged)d unchanged, "
                "%(reappeared)d reappeared, %(resolved)d resolved."
            )
            % dataclasses.asdict(counts)
        )
        present = (
            Finding.objects.filter(election=election, present=True)
            .values_list("kind")
            .annotate(count=Count("id"))
            .order_by("kind")
        )
        labels = dict(Finding.Kind.choices)
        self.stdout.write(_("Present findings by kind:"))
        for kind, count in present:
            self.stdout.write(f"  {labels.get(kind, kind)}: {count}")
