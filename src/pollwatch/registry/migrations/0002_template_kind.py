import tomllib

from django.db import migrations, models


def kind_from_source(apps, schema_editor):
    # Rows loaded before this column existed declare their kind in the TOML they came from.
    ProtocolTemplate = apps.get_model("registry", "ProtocolTemplate")
    for template in ProtocolTemplate.objects.all():
        try:
            kind = tomllib.loads(template.source).get("kind", "election")
        except tomllib.TOMLDecodeError:
            kind = "election"
        template.kind = kind
        template.save(update_fields=["kind"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="protocoltemplate",
            name="kind",
            field=models.CharField(
                choices=[("election", "Election"), ("referendum", "Referendum")],
                default="election",
                max_length=20,
                verbose_name="kind",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(kind_from_source, migrations.RunPython.noop),
    ]
