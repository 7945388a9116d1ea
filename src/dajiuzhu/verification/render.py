"""Human-readable forms of a check report (CLI text; the page has its own template)."""

from __future__ import annotations

from dajiuzhu.verification.models import VerificationReport
from dajiuzhu.verification.wording import UNDETERMINED, condition_figures, held_mark, held_word

STATUS = {"ok": "正常", "stale": "数据过期", "unavailable": "未加载(不可用)"}


def programme_lines(report: dict) -> list[str]:
    lines = []
    for p in report["explanation"]["programmes"]:
        if p["subject"] != "household" and not p["eligible"]:
            continue
        amount = f",{p['amount']:.0f}元/月" if p.get("amount") else ""
        rate = f",报销比例{p['rate']:.0%}" if p.get("rate") else ""
        who = "" if p["subject"] == "household" else f"(成员{p['subject']})"
        if p.get("undetermined"):
            lines.append(f"  {p['label_zh']}{who}:{UNDETERMINED}")
            continue
        lines.append(
            f"  {p['label_zh']}{who}:{'符合' if p['eligible'] else '不符合'}{amount}{rate}"
        )
    return lines


def text_report(report: VerificationReport) -> str:
    r = report.report
    out = [
        f"家庭经济状况核对报告 #{report.pk}  户号 {r['household_no']}  核对月份 {r['month']}",
        f"数据窗口 {r['window']['from']} 至 {r['window']['to']};用途 {r['purpose']}",
    ]
    if r.get("gaps"):
        out.append(
            "注意:以下数据缺失,依赖它们的条件和结论无法判断:"
            + "、".join(f"{g['title']}({g['reason']})" for g in r["gaps"])
        )
    elif r["missing"]:
        out.append("注意:以下数据未加载,结论不完整:" + "、".join(r["missing"]))
    if r["stale"]:
        out.append("注意:以下数据已过期:" + "、".join(r["stale"]))
    out.append("数据来源:")
    for s in r["sources"]:
        batches = ",".join(str(b["id"]) for b in s["batches"][:3]) or "—"
        reason = f";{s['reason']}" if s.get("reason") else ""
        out.append(f"  {s['title']}:{STATUS[s['status']]}(批次 {batches}{reason})")
    out.append("核对结果:")
    out.extend(programme_lines(r))
    out.append("规则条件:")
    for rule in r["explanation"]["rules"]:
        if rule["subject"] != "household":
            continue
        out.append(f"  {rule['label_zh']}:{held_word(rule)}")
        for c in rule["conditions"]:
            figures = condition_figures(c)
            out.append(f"    {held_mark(c)} {c['label_zh']}{f'({figures})' if figures else ''}")
    return "\n".join(out)
