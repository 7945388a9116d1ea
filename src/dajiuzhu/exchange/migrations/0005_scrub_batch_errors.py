"""Failed batches recorded before issue 9 may hold row data in their error text (pyarrow's
and DuckDB's messages quoted the row; a file without its header row had its first row listed
as "多余列"). Rewrite those texts without the file's values."""

import re

from django.db import migrations

SCRUBBED = "(原错误信息含有文件内容,已清除;请重新报送以查看出错的行和原因)"


def scrub(text: str) -> str:
    if text.startswith("CSV 文件无法解析"):
        return "CSV 文件无法解析" + SCRUBBED
    if text.startswith("Parquet 文件无法读取"):
        return "Parquet 文件无法读取" + SCRUBBED
    if text.startswith("XLSX 文件无法打开:"):
        return "XLSX 文件无法打开(文件可能已损坏)"
    if "多余列:" in text:
        head, tail = text.split("多余列:", 1)
        count = len([c for c in re.split("、", tail) if c])
        return f"{head}多余列:{count}列(原列名已清除)"
    return text


def forwards(apps, schema_editor):
    Batch = apps.get_model("exchange", "Batch")
    for batch in Batch.objects.exclude(error="").only("pk", "error").iterator():
        cleaned = scrub(batch.error)
        if cleaned != batch.error:
            Batch.objects.filter(pk=batch.pk).update(error=cleaned)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_batch_owner_heartbeat")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
