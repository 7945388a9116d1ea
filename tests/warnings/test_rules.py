"""The rules' declarations are the one source: the model's choices, the hooks, the summaries
the worker keeps and the warning page's evidence lines all come from ``RULES``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dajiuzhu.warnings import scanning
from dajiuzhu.warnings.apps import REALTIME_DATASETS, SUMMARY_DATASETS
from dajiuzhu.warnings.models import Rule, Warning
from dajiuzhu.warnings.rules import READ_SUMMARIES, RULES
from tests.factories.accounts import client_for
from tests.factories.city import YEAR


def test_the_model_hooks_and_summaries_derive_from_the_rules():
    assert Rule.choices == [
        ("MED_RETURN", "因病返贫"),
        ("MED_FALL", "因病致贫"),
        ("TRAFFIC", "交通事故"),
        ("DISASTER", "安全事故和自然灾害"),
        ("EARNER_DEATH", "主要劳动力去世"),
        ("NEW_SEVERE_DISABILITY", "新增重残"),
    ]
    assert REALTIME_DATASETS == (
        "traffic_accidents",
        "incidents",
        "deaths",
        "disability_certificates",
    )
    assert READ_SUMMARIES == ("hukou_by_person", "wages_by_year")
    assert SUMMARY_DATASETS == ("hukou", "wages")


def test_every_recorded_evidence_key_is_declared_and_every_declared_fact_is_recorded(city):
    scanning.scan_run(year=YEAR)
    recorded: dict[str, set[str]] = {code: set() for code in RULES}
    for w in Warning.objects.all():
        recorded[w.rule] |= set(w.evidence)
    for code, spec in RULES.items():
        assert recorded[code] == {f.key for f in spec.facts}, code


def test_the_page_shows_the_evidence_as_the_rule_declares_it(city, tn_clerk):
    scanning.scan_run(year=YEAR)
    client = client_for(tn_clerk)
    w = Warning.objects.get(rule="MED_FALL", person_key=city.people["med_fall"].key)
    body = client.get(f"/work/warnings/{w.pk}/").content.decode()
    assert f"<dt>{YEAR - 1}年全市居民人均可支配收入(元)</dt><dd>51000.00</dd>" in body
    assert "<dt>参保险种</dt><dd>居民医保</dd>" in body
    w = Warning.objects.get(rule="MED_RETURN", person_key=city.people["med_return"].key)
    body = client.get(f"/work/warnings/{w.pk}/").content.decode()
    assert "<dt>因病返贫阈值(元/年)</dt><dd>10000.00</dd>" in body
    assert "<dt>持有的救助身份</dt><dd>最低生活保障</dd>" in body
    w = Warning.objects.get(rule="DISASTER")
    # in the stored evidence's order (PostgreSQL's jsonb keeps its own): compared as a mapping
    assert dict(RULES["DISASTER"].fact_lines(w.evidence, w.year)) == {
        "发生日期": f"{YEAR}-07-20",
        "类型": "洪涝",
        "损失程度": "重大",
        "损失金额(元)": "30000.00",
    }
    lines = dict(RULES["DISASTER"].fact_lines({**w.evidence, "loss_amount": None}, w.year))
    assert lines["损失金额(元)"] == "—"


def _python(code: str, home) -> dict:
    env = {**os.environ, "DAJIUZHU_HOME": str(home), "DJANGO_SETTINGS_MODULE": "dajiuzhu.settings"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


HEAVY = ("ibis", "sqlglot", "pandas")


@pytest.mark.slow
def test_django_start_up_reads_the_declarations_without_the_analytics_stack(tmp_path):
    loaded = _python(
        "import json, sys, django; django.setup()\n"
        "from dajiuzhu.warnings import apps, models, rules\n"
        "from dajiuzhu.warnings.commands import register\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))",
        tmp_path,
    )
    assert loaded == []
