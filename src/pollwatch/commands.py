"""Plumbing shared by pollwatch's management commands.

- `reported_as_command_error`: a domain error whose message is already written for the user
  becomes a CommandError with that message (exit status 1, no traceback).
- `add_progress_argument` / `progress_bar`: the `--no-progress` option and the tqdm bar on
  stderr it turns off; without it the bar draws only when stderr is a terminal.
- `CommandHelp`: a command's `help` in the language active when it is shown.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from tqdm import tqdm


class CommandHelp:
    """A command's ``help`` in the language active when it is read:
    ``help = CommandHelp(gettext_lazy("..."))``.

    ``gettext`` in the class body would fix the language active when the module happened to be
    imported, and a lazy string as such breaks argparse, which runs ``re.sub`` on the
    description; so the lazy string is turned into a real one at each read.
    """

    def __init__(self, text: Promise) -> None:
        self.text = text

    def __get__(self, instance: object, owner: type | None = None) -> str:
        return str(self.text)


@contextmanager
def reported_as_command_error(*errors: type[Exception]) -> Iterator[None]:
    """Raise CommandError(str(error)) for any of `errors` raised in the block."""
    try:
        yield
    except errors as error:
        raise CommandError(str(error)) from None


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help=_("no progress bar"))


def progress_bar(options: dict[str, Any], **bar: Any) -> tqdm[Any]:
    """A tqdm bar on stderr with the given settings (desc, unit, total), off with
    --no-progress; otherwise disable=None, so tqdm draws only when stderr is a terminal."""
    disable = True if options.get("no_progress") else None
    return tqdm(disable=disable, **bar)
