"""Human-readable forms of a check report (CLI text; the page has its own template)."""

from __future__ import annotations

from dajiuzhu.verification.models import VerificationReport

STATUS = {"ok": "正常", "stale": "数据过期", "unavailable": "未加载(不可用)"}


def programme_lines(report: dict) -> list[str]:
    lines = []
    for p in report["explanation"]["programmes"]:
        if p["subject"] != "household" and not p["eligible"]:
            continue
        amount = f",{p['amount']:.0f}元/月" if p.get("amount") else ""
        rate = f",报销比例{p['rate']:.0%}" if p.get("rate") else ""
        who = "" if p["subject"] == "household" else f"(成员{p['subject']})"
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
    if r["missing"]:
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
        out.append(f"  {rule['label_zh']}:{'成立' if rule['held'] else '不成立'}")
        for c in rule["conditions"]:
            mark = "✓" if c["held"] else "✗"
            numbers = f"({c['left']} {c['op']} {c['right']})" if c.get("op") else ""
            out.append(f"    {mark} {c['label_zh']}{numbers}")
    return "\n".join(out)
