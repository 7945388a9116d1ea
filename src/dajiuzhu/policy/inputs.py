"""OpenFisca inputs assembled from the lake (DuckDB over the datasets' current views).

One SQL builder serves both the household economic-status check (a handful of person_keys)
and "policy finds people" (the whole population). Every figure says where it comes from:

person inputs (month M, window = the 12 months ending with M)
  wage_income      社保缴费工资 wages: the window's sum / 12 (all employers)
  other_income     养老金 pensions of type employee: the window's sum / 12
  exempt_income    养老金 pensions of type resident (the basic pension is never counted)
  disability_*     残疾人证: the latest valid certificate issued by the end of M
  has_serious_illness  医保结算: 大病保险 paid anything in the window
  income_exemption_eligible  a member of a 低保 household whose wages started in the last
                   6 months (took up work while in 低保)
  has_able_supporter another member of the household is of working age (18–59) and not
                   severely disabled — the data knows no 法定义务人 outside the household
household inputs
  financial_assets 金融资产 deposits: latest balance per person and institution up to M
  non_exempt_vehicles 机动车: held at the end of M, disability vehicles excluded
  extra_residential_units 不动产: residential units held beyond the first
  runs_active_business 市场主体: any member legal representative or shareholder, active
  rigid_expenditure 医保结算: members' out-of-pocket in the window / 12 (education: no data)
  dibao_last_month / last_dibao_amount 救助对象: 低保 current in the month before M
not in any dataset (left at their defaults, and said so in reports): work_refusals,
gradual_exit_months_used, self_care_level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dajiuzhu.exchange import lake

# Datasets the check reads, and what each contributes.
SOURCES = {
    "hukou": "户籍:家庭成员、出生日期、户籍地",
    "wages": "工资收入(近12个月平均)",
    "pensions": "养老金(职工养老金计入收入,居民基础养老金不计入)",
    "deposits": "存款等金融资产",
    "vehicles": "机动车",
    "real_estate": "住房",
    "businesses": "经营性市场主体",
    "disability_certificates": "残疾等级、类别",
    "medical_claims": "医疗自负支出、大病",
    "assistance_recipients": "上月是否享受低保及金额",
}
NOT_IN_DATA = {
    "work_refusals": "无故拒绝就业次数:无部门数据,按0计,请经办人核实",
    "gradual_exit_months_used": "已享受渐退月数:无部门数据,按0计,请经办人核实",
    "self_care_level": "生活自理能力:无部门数据,按“能够自理”计,特困照料护理标准需经评估",
}


@dataclass(frozen=True)
class Window:
    month: str  # YYYY-MM
    first_month: str
    month_start: date
    month_end: date
    prev_start: date
    prev_end: date
    recent_month: str  # first month of the last six (income exemption)


def window(month: str) -> Window:
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    prev_end = start - timedelta(days=1)
    prev_start = prev_end.replace(day=1)

    def shift(months: int) -> str:
        index = year * 12 + (mon - 1) - months
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    return Window(
        month=month,
        first_month=shift(11),
        month_start=start,
        month_end=end,
        prev_start=prev_start,
        prev_end=prev_end,
        recent_month=shift(5),
    )


def _d(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _only(keys: list[int] | None) -> str:
    """A condition (to start a WHERE clause) restricting a dataset to the persons asked for:
    a literal list, which DuckDB pushes into the Parquet scan — or nothing for a population
    run, which aggregates each dataset whole."""
    if keys is None:
        return ""
    listing = ", ".join(str(int(k)) for k in keys) or "NULL"
    return f"person_key IN ({listing}) AND "


def _current_views():
    """``v(dataset)``: the dataset's current rows as SQL, the active batches of every source
    read with one query."""
    batches = lake.active_batches_of(list(SOURCES))
    return lambda dataset: lake.current_sql(dataset, batches=batches[dataset])


def person_features_sql(w: Window, keys_sql: str, *, keys: list[int] | None = None) -> str:
    """Per person_key in ``keys_sql`` (a SQL relation with a column person_key).

    ``keys``: the person_keys of ``keys_sql`` when they are few (a household); None for a
    population run, where wage months are counted as rows (a person paid by two employers in
    a month counts twice — the count is only shown in reports)."""
    v = _current_views()
    only = _only(keys)
    months = "count(*)" if keys is None else "count(DISTINCT w.month)"
    return f"""
    WITH k AS (SELECT DISTINCT person_key FROM {keys_sql}),
    wg AS (
        SELECT w.person_key, sum(w.wage) AS wage_sum, {months} AS wage_months,
               min(w.month) AS first_wage_month
        FROM {v("wages")} w
        WHERE {only}w.month BETWEEN '{w.first_month}' AND '{w.month}'
        GROUP BY w.person_key),
    pn AS (
        SELECT p.person_key,
               sum(CASE WHEN p.pension_type = 'employee' THEN p.amount ELSE 0 END) AS employee_sum,
               sum(CASE WHEN p.pension_type = 'resident' THEN p.amount ELSE 0 END) AS resident_sum
        FROM {v("pensions")} p
        WHERE {only}p.month BETWEEN '{w.first_month}' AND '{w.month}'
        GROUP BY p.person_key),
    dc AS (
        SELECT d.person_key, arg_max(d.grade, d.issued_date) AS grade,
               arg_max(d.disability_kind, d.issued_date) AS kind
        FROM {v("disability_certificates")} d
        WHERE {only}d.status = 'valid' AND d.issued_date <= {_d(w.month_end)}
        GROUP BY d.person_key),
    mc AS (
        SELECT c.person_key, sum(c.out_of_pocket) AS oop_sum,
               bool_or(c.critical_illness_paid > 0) AS serious
        FROM {v("medical_claims")} c
        WHERE {only}c.settlement_date BETWEEN {_d(window_start(w))} AND {_d(w.month_end)}
        GROUP BY c.person_key)
    SELECT k.person_key,
           coalesce(wg.wage_sum, 0) / 12.0 AS wage_income,
           coalesce(wg.wage_months, 0) AS wage_months,
           wg.first_wage_month AS first_wage_month,
           coalesce(pn.employee_sum, 0) / 12.0 AS other_income,
           coalesce(pn.resident_sum, 0) / 12.0 AS exempt_income,
           coalesce(dc.grade, 0) AS disability_grade,
           coalesce(dc.kind, 'none') AS disability_kind,
           coalesce(mc.serious, false) AS has_serious_illness,
           coalesce(mc.oop_sum, 0) / 12.0 AS medical_monthly
    FROM k LEFT JOIN wg USING (person_key) LEFT JOIN pn USING (person_key)
           LEFT JOIN dc USING (person_key) LEFT JOIN mc USING (person_key)
    """


def window_start(w: Window) -> date:
    year, mon = (int(x) for x in w.first_month.split("-"))
    return date(year, mon, 1)


def person_assets_sql(w: Window, keys_sql: str, *, keys: list[int] | None = None) -> str:
    """Per person_key: deposits, vehicles, residential units, active business, and whether
    the person was a 低保 recipient in the month before M (with the amount)."""
    v = _current_views()
    only = _only(keys)
    return f"""
    WITH k AS (SELECT DISTINCT person_key FROM {keys_sql}),
    dp AS (
        SELECT person_key, sum(balance) AS deposits FROM (
            SELECT d.person_key, arg_max(d.balance, d.as_of_date) AS balance
            FROM {v("deposits")} d
            WHERE {only}d.as_of_date <= {_d(w.month_end)}
            GROUP BY d.person_key, d.institution_code) GROUP BY person_key),
    vh AS (
        SELECT x.person_key, count(*) AS vehicles
        FROM {v("vehicles")} x
        WHERE {only}x.status = 'held' AND x.vehicle_type <> 'disability_vehicle'
          AND x.registered_date <= {_d(w.month_end)}
        GROUP BY x.person_key),
    re AS (
        SELECT r.person_key, list(DISTINCT r.property_id) AS homes
        FROM {v("real_estate")} r
        WHERE {only}r.status = 'held' AND r.usage = 'residential'
          AND r.registered_date <= {_d(w.month_end)}
        GROUP BY r.person_key),
    bz AS (
        SELECT b.person_key, count(*) AS businesses
        FROM {v("businesses")} b
        WHERE {only}b.status = 'active' GROUP BY b.person_key),
    ar AS (
        SELECT a.person_key, max(coalesce(a.monthly_amount, 0)) AS dibao_amount
        FROM {v("assistance_recipients")} a
        WHERE {only}a.program_code = 'dibao' AND a.start_date <= {_d(w.prev_end)}
          AND (a.end_date IS NULL OR a.end_date >= {_d(w.prev_start)})
        GROUP BY a.person_key)
    SELECT k.person_key, coalesce(dp.deposits, 0) AS deposits,
           coalesce(vh.vehicles, 0) AS vehicles, coalesce(re.homes, []) AS homes,
           coalesce(bz.businesses, 0) AS businesses,
           ar.person_key IS NOT NULL AS dibao_last_month,
           coalesce(ar.dibao_amount, 0) AS dibao_amount
    FROM k LEFT JOIN dp USING (person_key) LEFT JOIN vh USING (person_key)
           LEFT JOIN re USING (person_key) LEFT JOIN bz USING (person_key)
           LEFT JOIN ar USING (person_key)
    """


def dataset_status(dataset: str, w: Window | None = None) -> dict:
    """Which batches a report relies on: ``unavailable`` when never loaded; ``stale`` when
    the latest batch is older than twice the contract's cycle, or when its rows do not reach
    the month looked at (e.g. wages known only up to an earlier month)."""
    return _status(dataset, _published([dataset])[dataset], w)


def sources_status(w: Window | None = None) -> list[dict]:
    """:func:`dataset_status` of every source of the check, with one query."""
    published = _published(list(SOURCES))
    return [_status(d, published[d], w) for d in SOURCES]


def _published(datasets: list[str]) -> dict[str, list[dict]]:
    """The 50 latest published batches with rows of each dataset, newest first."""
    from dajiuzhu.exchange.models import Batch, BatchStatus

    out: dict[str, list[dict]] = {d: [] for d in datasets}
    for b in (
        Batch.objects.filter(dataset__in=datasets, status=BatchStatus.PUBLISHED, accepted__gt=0)
        .order_by("-received_at", "-id")
        .values("dataset", "id", "received_at", "department_id", "period_max")
    ):
        if len(out[b["dataset"]]) < 50:
            out[b["dataset"]].append(dict(b))
    return out


def _status(dataset: str, batches: list[dict], w: Window | None) -> dict:
    from django.utils import timezone

    from dajiuzhu.exchange.contracts import get_contract

    contract = get_contract(dataset)
    if not batches:
        return {
            "dataset": dataset,
            "title": contract.title,
            "status": "unavailable",
            "batches": [],
            "latest": None,
            "uses": SOURCES.get(dataset, ""),
            "reason": "该数据集尚未加载",
        }
    latest = batches[0]["received_at"]
    age_days = (timezone.now() - latest).total_seconds() / 86400
    reason = ""
    if contract.cycle_days is not None and age_days > 2 * contract.cycle_days + 1:
        reason = f"最近一次报送已过去{age_days:.0f}天"
    covers_to = max((b["period_max"] for b in batches if b["period_max"]), default="")
    if w is not None and covers_to:
        needed = w.month if len(covers_to) == 7 else w.month_end.isoformat()
        if len(covers_to) == 4:
            needed = w.month[:4]
        if covers_to < needed:
            reason = f"数据只到{covers_to},未覆盖核对月份{w.month}"
    return {
        "dataset": dataset,
        "title": contract.title,
        "status": "stale" if reason else "ok",
        "batches": [
            {"id": b["id"], "received_at": b["received_at"].isoformat()} for b in batches[:20]
        ],
        "latest": latest.isoformat(),
        "age_days": round(age_days, 1),
        "covers_to": covers_to,
        "uses": SOURCES.get(dataset, ""),
        "reason": reason,
    }


def latest_period(dataset: str = "wages") -> str | None:
    """The latest month the dataset's rows reach (YYYY-MM), for a sensible default month."""
    from dajiuzhu.exchange.models import Batch, BatchStatus

    value = (
        Batch.objects.filter(dataset=dataset, status=BatchStatus.PUBLISHED)
        .exclude(period_max="")
        .order_by("-period_max")
        .values_list("period_max", flat=True)
        .first()
    )
    return value[:7] if value else None
