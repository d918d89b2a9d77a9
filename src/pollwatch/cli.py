"""The `pollwatch` command: the single entry point.

pollwatch's own commands are Django management commands; `pollwatch <command>` runs them and
accepts hyphens for underscores (`pollwatch import-structure`). Django's commands (migrate,
createsuperuser, …) are reachable the same way.
"""

import os
import sys

from django.core.management import execute_from_command_line, get_commands, load_command_class

# Apps whose commands are pollwatch's own, listed first by `pollwatch --help`.
_OWN_APP_PREFIX = "pollwatch."


def _command_name(arg: str) -> str:
    return arg.replace("-", "_")


def _print_help() -> None:
    import django

    django.setup()
    own = sorted(
        (name, app) for name, app in get_commands().items() if app.startswith(_OWN_APP_PREFIX)
    )
    print("usage: pollwatch <command> [options]   (pollwatch <command> --help for its options)\n")
    print("pollwatch commands:")
    for name, app in own:
        command = load_command_class(app, name)
        summary = (command.help or "").strip().splitlines()[0] if command.help else ""
        print(f"  {name.replace('_', '-'):<20} {summary}")
    print("\nDjango's own commands (migrate, createsuperuser, shell, …): pollwatch help --commands")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pollwatch.settings")
    if len(argv) < 2 or argv[1] in {"-h", "--help"}:
        _print_help()
        return
    argv[0] = "pollwatch"
    argv[1] = _command_name(argv[1])
    if argv[1] == "demo":
        # The demo is the one place debug mode is on (settings read this at import).
        os.environ.setdefault("POLLWATCH_DEBUG", "1")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
