"""Protocol templates in the database: loading TOML files into rows, rebuilding the core spec.

The TOML files (pollwatch/protocol_templates/ and any an administrator brings) are validated by
``pollwatch.core.protocol`` before anything is written; a row keeps the validated lines and
relations as JSON, and the TOML it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from pollwatch.core.protocol import ProtocolTemplateSpec, TemplateError, template_from_data
from pollwatch.core.protocol import parse_template as parse_template_text
from pollwatch.registry.models import ProtocolTemplate

SHIPPED_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "protocol_templates"


def shipped_template_paths() -> list[Path]:
    """The templates that come with pollwatch, by file name."""
    return sorted(SHIPPED_TEMPLATES_DIR.glob("*.toml"))


def shipped_template_keys() -> list[str]:
    # Each shipped file is named after its template's key (a test keeps it so).
    return [path.stem for path in shipped_template_paths()]


def read_template(path: Path | str) -> tuple[ProtocolTemplateSpec, str]:
    """Parse and validate one template file; returns the spec and the TOML source."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateError(
            _("%(path)s: not UTF-8 text; expected a TOML file") % {"path": path}
        ) from None
    except OSError as err:
        raise TemplateError(
            _("%(path)s: cannot read the file (%(reason)s)")
            % {"path": path, "reason": err.strerror}
        ) from None
    return parse_template_text(text, str(path)), text


def load_templates(paths: Iterable[Path | str]) -> list[ProtocolTemplate]:
    """Load several template files, all or nothing: every file is validated before any write."""
    parsed = [(path, *read_template(path)) for path in paths]
    first_file: dict[str, Path | str] = {}
    for path, spec, _source in parsed:
        if spec.key in first_file:
            raise TemplateError(
                _("%(path)s: template key %(key)s is also the key of %(other)s")
                % {"path": path, "key": spec.key, "other": first_file[spec.key]}
            )
        first_file[spec.key] = path
    with transaction.atomic():
        return [_save(spec, source) for _path, spec, source in parsed]


def load_template(path: Path | str) -> ProtocolTemplate:
    """Load one template file into its row (created, or updated in place by key)."""
    (row,) = load_templates([path])
    return row


def load_shipped_templates() -> list[ProtocolTemplate]:
    return load_templates(shipped_template_paths())


def load_shipped_template(key: str) -> ProtocolTemplate | None:
    """Load the shipped template with this key, if there is one; other rows are left alone.

    Only that one: reloading all would undo what an administrator changed in the others.
    """
    for path in shipped_template_paths():
        spec, source = read_template(path)
        if spec.key == key:
            with transaction.atomic():
                return _save(spec, source)
    return None


def spec_of(template: ProtocolTemplate) -> ProtocolTemplateSpec:
    """Rebuild the core spec from a row, validating it again (the admin can edit the JSON)."""
    source_name = _("protocol template %(key)s in the database") % {"key": template.key}
    data = {
        "key": template.key,
        "name": template.name,
        "kind": template.kind,
        "lines": template.lines,
        "relations": template.relations,
    }
    if template.statistics:
        data["statistics"] = template.statistics
    return template_from_data(data, source_name)


def _save(spec: ProtocolTemplateSpec, source: str) -> ProtocolTemplate:
    row, _created = ProtocolTemplate.objects.update_or_create(
        key=spec.key,
        defaults={
            "name": spec.name,
            "kind": spec.kind,
            "lines": spec.lines_data(),
            "relations": spec.relations_data(),
            "statistics": spec.statistics.data() if spec.statistics else {},
            "source": source,
        },
    )
    return row
