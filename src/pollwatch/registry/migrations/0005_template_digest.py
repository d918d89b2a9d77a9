from typing import Any

from django.db import migrations, models


def fill_digests(apps: Any, schema_editor: Any) -> None:
    from pollwatch.registry.models import template_digest

    ProtocolTemplate = apps.get_model("registry", "ProtocolTemplate")
    for template in ProtocolTemplate.objects.all():
        template.digest = template_digest(template)
        template.save(update_fields=["digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_template_statistics"),
    ]

    operations = [
        migrations.AddField(
            model_name="protocoltemplate",
            name="digest",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="content digest"
            ),
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
    ]
