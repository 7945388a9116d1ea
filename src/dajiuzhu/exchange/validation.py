"""Row checks from the contract, as DuckDB SQL over the source relation.

Each field yields a typed lake expression and zero or more problem expressions
(``CASE WHEN <bad> THEN 'field:code' END``); a row's problems are joined with ``|`` and a row
with none is accepted. Everything runs vectorised inside DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dajiuzhu.exchange.contracts import Contract, Field, town_codes

# Stable problem codes and the Chinese messages stewards read.
MESSAGES = {
    "required": "必填项为空",
    "too_long": "内容超过规定长度",
    "id_format": "身份证号码格式不正确(应为18位,末位为数字或X)",
    "id_checksum": "身份证号码校验位不正确",
    "id_birth_date": "身份证号码中的出生日期不存在或不合理",
    "date_format": "日期格式不正确(应为YYYY-MM-DD)",
    "datetime_format": "时间格式不正确(应为YYYY-MM-DD HH:MM:SS)",
    "date_future": "日期晚于今天",
    "date_range": "日期早于1900年",
    "month_format": "月份格式不正确(应为YYYY-MM)",
    "year_format": "年度应为四位数字",
    "year_range": "年度超出合理范围",
    "int_format": "应为整数",
    "int_range": "数值超出允许范围",
    "enum": "代码不在允许的取值范围内",
    "money_format": "金额格式不正确(元,最多两位小数)",
    "decimals": "金额最多保留两位小数",
    "negative": "金额不能为负数",
    "number_format": "数值格式不正确(最多两位小数)",
    "division_format": "区划代码应为9位或12位数字",
    "division_unknown": "区划代码不属于常州市的镇(街道)",
    "order": "与相关字段的先后或大小关系不正确",
    "id_mismatch": "与身份证号码中的信息不一致",
}

NUMERIC_TYPES = (
    "DOUBLE",
    "FLOAT",
    "DECIMAL",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "REAL",
)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

LAKE_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "month": "VARCHAR",
    "division_code": "VARCHAR",
    "id_number": "BIGINT",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
    "int": "BIGINT",
    "money": "DECIMAL(18,2)",
    "decimal": "DECIMAL(18,2)",
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


@dataclass
class FieldSql:
    field: Field
    text: str  # the trimmed text or native value, NULL when blank
    value: str  # typed value
    problems: list[str]


def town_list_sql() -> str:
    return _in_list(sorted(town_codes()))


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().startswith(NUMERIC_TYPES)


def _problem(cond: str, field: str, code: str) -> str:
    return f"CASE WHEN {cond} THEN '{field}:{code}' END"


def id_checksum_ok(v: str) -> str:
    total = " + ".join(
        f"(ascii(substr({v}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('10X98765432', (({total}) % 11)::INTEGER + 1, 1) = substr({v}, 18, 1)"


def id_birth(v: str) -> str:
    return f"try_strptime(substr({v}, 7, 8), '%Y%m%d')::DATE"


def field_sql(f: Field, source_type: str, *, today: date, now: datetime) -> FieldSql:
    col = q(f.name)
    is_text = source_type.upper() in ("VARCHAR", "JSON") or source_type.upper().startswith(
        "VARCHAR"
    )
    text = f"nullif(trim({col}), '')" if is_text else col
    problems: list[str] = []
    present = f"({text}) IS NOT NULL"
    if f.required:
        problems.append(_problem(f"({text}) IS NULL", f.name, "required"))
    today_sql = f"DATE '{today.isoformat()}'"
    t = f.type
    if t == "string":
        value = text if is_text else f"CAST({col} AS VARCHAR)"
        if f.max_length:
            problems.append(_problem(f"length({value}) > {f.max_length}", f.name, "too_long"))
    elif t == "enum":
        value = text if is_text else f"CAST({col} AS VARCHAR)"
        problems.append(
            _problem(f"{present} AND {value} NOT IN {_in_list(f.values)}", f.name, "enum")
        )
    elif t == "id_number":
        value = f"upper({text})" if is_text else f"upper(CAST({col} AS VARCHAR))"
        fmt = f"regexp_full_match({value}, '[0-9]{{17}}[0-9X]')"
        problems.append(_problem(f"{present} AND NOT {fmt}", f.name, "id_format"))
        problems.append(
            _problem(
                f"{present} AND {fmt} AND NOT ({id_checksum_ok(value)})", f.name, "id_checksum"
            )
        )
        birth = id_birth(value)
        problems.append(
            _problem(
                f"{present} AND {fmt} AND ({birth} IS NULL OR {birth} > {today_sql} "
                f"OR {birth} < DATE '1890-01-01')",
                f.name,
                "id_birth_date",
            )
        )
    elif t == "date":
        if source_type.upper() == "DATE":
            value = col
        elif source_type.upper().startswith("TIMESTAMP"):
            value = f"CAST({col} AS DATE)"
        else:
            value = f"try_strptime({text}, '%Y-%m-%d')::DATE"
        problems.append(_problem(f"{present} AND {value} IS NULL", f.name, "date_format"))
        problems.append(_problem(f"{value} > {today_sql}", f.name, "date_future"))
        problems.append(_problem(f"{value} < DATE '1900-01-01'", f.name, "date_range"))
    elif t == "datetime":
        if source_type.upper().startswith("TIMESTAMP") or source_type.upper() == "DATE":
            value = f"CAST({col} AS TIMESTAMP)"
        else:
            value = (
                f"coalesce(try_strptime({text}, '%Y-%m-%d %H:%M:%S'), "
                f"try_strptime({text}, '%Y-%m-%dT%H:%M:%S'), "
                f"try_strptime({text}, '%Y-%m-%d %H:%M'), try_strptime({text}, '%Y-%m-%d'))"
            )
        problems.append(_problem(f"{present} AND {value} IS NULL", f.name, "datetime_format"))
        limit = f"TIMESTAMP '{now.strftime('%Y-%m-%d %H:%M:%S')}' + INTERVAL 1 DAY"
        problems.append(_problem(f"{value} > {limit}", f.name, "date_future"))
    elif t == "month":
        if source_type.upper() == "DATE" or source_type.upper().startswith("TIMESTAMP"):
            value = f"strftime({col}, '%Y-%m')"
        else:
            value = text if is_text else f"CAST({col} AS VARCHAR)"
        problems.append(
            _problem(
                f"{present} AND NOT regexp_full_match({value}, '[0-9]{{4}}-(0[1-9]|1[0-2])')",
                f.name,
                "month_format",
            )
        )
        problems.append(_problem(f"{value} > '{today:%Y-%m}'", f.name, "date_future"))
    elif t in ("year", "int"):
        target = "INTEGER" if t == "year" else "BIGINT"
        if _is_numeric(source_type):
            value = f"TRY_CAST({col} AS {target})"
            exact = f"CAST({col} AS DOUBLE) = floor(CAST({col} AS DOUBLE))"
        else:
            value = f"TRY_CAST({text} AS {target})"
            exact = f"regexp_full_match({text}, '-?[0-9]+')"
        code = "year_format" if t == "year" else "int_format"
        problems.append(_problem(f"{present} AND ({value} IS NULL OR NOT ({exact}))", f.name, code))
        lo, hi = (1900, today.year) if t == "year" else (f.min, f.max)
        range_code = "year_range" if t == "year" else "int_range"
        if lo is not None:
            problems.append(_problem(f"{value} < {lo}", f.name, range_code))
        if hi is not None:
            problems.append(_problem(f"{value} > {hi}", f.name, range_code))
    elif t in ("money", "decimal"):
        fmt_code = "money_format" if t == "money" else "number_format"
        if _is_numeric(source_type):
            d = f"CAST({col} AS DOUBLE)"
            value = f"TRY_CAST(round({d}, 2) AS DECIMAL(18,2))"
            problems.append(
                _problem(
                    f"{present} AND abs({d} * 100 - round({d} * 100)) > 1e-6", f.name, "decimals"
                )
            )
            problems.append(_problem(f"{present} AND {value} IS NULL", f.name, fmt_code))
        else:
            value = f"TRY_CAST({text} AS DECIMAL(18,2))"
            problems.append(
                _problem(
                    f"{present} AND (NOT regexp_full_match({text}, '-?[0-9]+(\\.[0-9]{{1,2}})?') "
                    f"OR {value} IS NULL)",
                    f.name,
                    fmt_code,
                )
            )
        problems.append(_problem(f"{value} < 0", f.name, "negative"))
    elif t == "division_code":
        value = text if is_text else f"CAST({col} AS VARCHAR)"
        fmt = f"regexp_full_match({value}, '[0-9]{{9}}([0-9]{{3}})?')"
        problems.append(_problem(f"{present} AND NOT {fmt}", f.name, "division_format"))
        problems.append(
            _problem(
                f"{present} AND {fmt} AND substr({value}, 1, 9) NOT IN {town_list_sql()}",
                f.name,
                "division_unknown",
            )
        )
    else:  # pragma: no cover - contracts are validated on load
        raise ValueError(t)
    return FieldSql(field=f, text=text, value=value, problems=problems)


def row_sql(
    contract: Contract, source_types: dict[str, str], *, today: date, now: datetime
) -> tuple[dict[str, FieldSql], str]:
    """Per-field SQL and the expression of the row's problems ('' when the row is good)."""
    fields = {
        f.name: field_sql(f, source_types[f.name], today=today, now=now) for f in contract.fields
    }
    problems = [p for fs in fields.values() for p in fs.problems]
    for check in contract.checks:
        if check.rule == "le":
            left, right = fields[check.left].value, fields[check.right].value
            problems.append(_problem(f"{left} > {right}", check.field, "order"))
        elif check.rule == "id_birth_date_matches":
            idf = contract.person_field
            problems.append(
                _problem(
                    f"{fields[check.field].value} <> {id_birth(fields[idf.name].value)}",
                    check.field,
                    "id_mismatch",
                )
            )
        elif check.rule == "id_sex_matches":
            idf = contract.person_field
            idv = fields[idf.name].value
            expected = (
                f"CASE WHEN TRY_CAST(substr({idv}, 17, 1) AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END"
            )
            problems.append(
                _problem(
                    f"regexp_full_match({idv}, '[0-9]{{17}}[0-9X]') "
                    f"AND {fields[check.field].value} <> {expected}",
                    check.field,
                    "id_mismatch",
                )
            )
        else:  # pragma: no cover
            raise ValueError(check.rule)
    return fields, "concat_ws('|', " + ", ".join(problems) + ")" if problems else "''"


def describe_problems(problems: str, contract: Contract) -> list[dict[str, str]]:
    """'field:code|field:code' → [{field, title, code, message}] for stewards."""
    check_messages = {c.field: c.message for c in contract.checks}
    out = []
    for item in filter(None, problems.split("|")):
        name, code = item.split(":", 1)
        try:
            title = contract.field(name).title
        except KeyError:
            title = name
        message = MESSAGES.get(code, code)
        if code in ("order", "id_mismatch") and name in check_messages:
            message = check_messages[name]
        out.append({"field": name, "title": title, "code": code, "message": message})
    return out
