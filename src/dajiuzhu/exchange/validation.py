"""Row checks from the contract, as DuckDB SQL over the source relation.

Each field yields a typed lake expression and zero or more problem expressions
(``CASE WHEN <bad> THEN 'field:code' END``); a row's problems are joined with ``|`` and a row
with none is accepted. Everything runs vectorised inside DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dajiuzhu.core.text import CONTROL_CHARS_RE
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
    "control_chars": "含有控制字符(如 NUL),请删除后重新报送",
    "too_large": "内容超过单元格的上限",
    "not_scalar": "应为单个值(文本或数字),不能是列表或对象",
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


INTEGER_TYPES = (
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
)
# Source column types each contract type reads (Parquet deliveries; CSV, XLSX and JSON rows
# arrive as text): text always, and the natural typed forms.
ACCEPTED_KINDS = {
    "string": ("text", "integer"),
    "enum": ("text", "integer"),
    "division_code": ("text", "integer"),
    "id_number": ("text",),  # the last character may be X
    "date": ("text", "date"),
    "datetime": ("text", "date"),
    "month": ("text", "date"),
    "year": ("text", "number"),
    "int": ("text", "number"),
    "money": ("text", "number"),
    "decimal": ("text", "number"),
}
KIND_LABELS = {
    "text": "文本(VARCHAR)",
    "integer": "整数",
    "number": "数值",
    "date": "日期或时间(DATE/TIMESTAMP)",
}
ACCEPTED_LABELS = {
    t: "或".join(KIND_LABELS[k] for k in kinds) for t, kinds in ACCEPTED_KINDS.items()
}


def source_kind(sql_type: str) -> str | None:
    """'text', 'integer', 'number', 'date', 'null' or None (lists, structs, blobs, ...)."""
    t = sql_type.upper()
    if t in ("VARCHAR", "JSON") or (t.startswith("VARCHAR(") and "[" not in t):
        return "text"
    if t == "NULL" or t == '"NULL"':
        return "null"
    if t in INTEGER_TYPES:
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or (t.startswith("DECIMAL") and "[" not in t):
        return "number"
    if t == "DATE" or (t.startswith("TIMESTAMP") and "[" not in t):
        return "date"
    return None


def source_type_label(sql_type: str) -> str:
    """A source column's type as a steward reads it: BIGINT(整数), VARCHAR[](列表)."""
    kind = source_kind(sql_type)
    if kind in KIND_LABELS:
        return f"{sql_type}({KIND_LABELS[kind].split('(')[0]})"
    t = sql_type.upper()
    if t.endswith("]"):
        return f"{sql_type}(列表)"
    if t.startswith(("STRUCT", "MAP", "UNION")):
        return f"{sql_type}(复合类型)"
    return sql_type


def source_type_ok(field_type: str, sql_type: str) -> bool:
    kind = source_kind(sql_type)
    if kind == "null":
        return True
    if kind == "integer" and "number" in ACCEPTED_KINDS[field_type]:
        return True
    return kind in ACCEPTED_KINDS[field_type]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


@dataclass
class FieldSql:
    """A field's SQL. ``text_expr``/``value_expr`` are computed once per row in the typed layer
    (columns ``text``/``value``); ``problems`` refer to those columns."""

    field: Field
    text_expr: str
    value_expr: str
    problems: list[tuple[str, str, str]]  # (condition over the typed layer, field, code)

    @property
    def text(self) -> str:
        return q(f"__t_{self.field.name}")

    @property
    def value(self) -> str:
        return q(f"__v_{self.field.name}")


def town_list_sql() -> str:
    return _in_list(sorted(town_codes()))


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().startswith(NUMERIC_TYPES)


def _problem(cond: str, field: str, code: str) -> tuple[str, str, str]:
    return (cond, field, code)


def problems_sql(problems: list[tuple[str, str, str]]) -> tuple[str, str]:
    """(bad, described): ``bad`` is a cheap boolean — is anything wrong with the row? —
    used to select accepted rows; ``described`` names the problems ('field:code|…') and is
    evaluated for rejected rows only."""
    if not problems:
        return "false", "''"
    bad = " OR ".join(f"coalesce({c}, false)" for c, _f, _code in problems)
    described = (
        "concat_ws('|', "
        + ", ".join(f"CASE WHEN {c} THEN '{f}:{code}' END" for c, f, code in problems)
        + ")"
    )
    return f"({bad})", described


def id_checksum_ok(v: str) -> str:
    total = " + ".join(
        f"(ascii(substr({v}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('10X98765432', (({total}) % 11)::INTEGER + 1, 1) = substr({v}, 18, 1)"


def ids_table_sql(column: str, person_key_sql) -> str:
    """The distinct ID numbers of the delivery, each checked and pseudonymised once (a file
    of 60 million claim lines holds a few million people)."""
    col = q(column)
    return f"""
    WITH d AS (SELECT DISTINCT {col} AS raw FROM src WHERE {col} IS NOT NULL),
    n AS (SELECT raw, upper(trim(CAST(raw AS VARCHAR))) AS v FROM d),
    f AS (SELECT raw, v, regexp_full_match(v, '[0-9]{{17}}[0-9X]') AS fmt FROM n),
    g AS (SELECT raw, v, fmt,
                 CASE WHEN fmt THEN {id_checksum_ok("v")} ELSE false END AS sum_ok,
                 CASE WHEN fmt THEN try_strptime(substr(v, 7, 8), '%Y%m%d')::DATE END AS birth,
                 CASE WHEN fmt THEN CASE WHEN TRY_CAST(substr(v, 17, 1) AS INTEGER) % 2 = 1
                                         THEN 'M' ELSE 'F' END END AS sex
          FROM f)
    SELECT raw, v, fmt, sum_ok, birth, sex,
           CASE WHEN sum_ok THEN {person_key_sql("v")} END AS pk
    FROM g
    """


def field_sql(
    f: Field, source_type: str, *, today: date, now: datetime, cell_cap: int = 64 * 1024
) -> FieldSql:
    col = f"src.{q(f.name)}"  # typed layer: qualified (the distinct-ID table has columns too)
    raw = q(f.name)  # problems layer: the source column as the typed layer passes it on
    is_text = source_type.upper() in ("VARCHAR", "JSON") or source_type.upper().startswith(
        "VARCHAR"
    )
    text_expr = f"nullif(trim({col}), '')" if is_text else col
    fs = FieldSql(field=f, text_expr=text_expr, value_expr=text_expr, problems=[])
    text, value = fs.text, fs.value
    problems = fs.problems
    present = f"{text} IS NOT NULL"
    if f.required:
        problems.append(_problem(f"{text} IS NULL", f.name, "required"))
    today_sql = f"DATE '{today.isoformat()}'"
    t = f.type
    if is_text:  # no cell over the cap (CSV, XLSX and JSON rows are refused on reading)
        problems.append(_problem(f"strlen({text}) > {cell_cap}", f.name, "too_large"))
    if t == "string" and is_text:
        # Free text: no control characters (NUL would fail a PostgreSQL write). Every other
        # type's format check refuses them already.
        problems.append(
            _problem(f"regexp_matches({text}, {lit(CONTROL_CHARS_RE)})", f.name, "control_chars")
        )
    if t in ("string", "enum", "division_code"):
        fs.value_expr = text_expr if is_text else f"CAST({col} AS VARCHAR)"
        if t == "string" and f.max_length:
            problems.append(_problem(f"length({value}) > {f.max_length}", f.name, "too_long"))
        if t == "enum":
            problems.append(
                _problem(f"{present} AND {value} NOT IN {_in_list(f.values)}", f.name, "enum")
            )
        if t == "division_code":
            fmt = f"regexp_full_match({value}, '[0-9]{{9}}([0-9]{{3}})?')"
            problems.append(_problem(f"{present} AND NOT {fmt}", f.name, "division_format"))
            problems.append(
                _problem(
                    f"{present} AND {fmt} AND substr({value}, 1, 9) NOT IN {town_list_sql()}",
                    f.name,
                    "division_unknown",
                )
            )
    elif t == "id_number":
        fs.value_expr = "ids.v"  # the normalised number, from the distinct-ID table
        problems.append(_problem(f"{present} AND NOT __id_fmt", f.name, "id_format"))
        problems.append(_problem(f"{present} AND __id_fmt AND NOT __id_sum", f.name, "id_checksum"))
        problems.append(
            _problem(
                f"{present} AND __id_fmt AND (__id_birth IS NULL OR __id_birth > {today_sql} "
                f"OR __id_birth < DATE '1890-01-01')",
                f.name,
                "id_birth_date",
            )
        )
    elif t == "date":
        if source_type.upper() == "DATE":
            fs.value_expr = col
        elif source_type.upper().startswith("TIMESTAMP"):
            fs.value_expr = f"CAST({col} AS DATE)"
        else:  # strictly YYYY-MM-DD
            fs.value_expr = (
                f"CASE WHEN length({text_expr}) = 10 THEN TRY_CAST({text_expr} AS DATE) END"
            )
        problems.append(_problem(f"{present} AND {value} IS NULL", f.name, "date_format"))
        problems.append(_problem(f"{value} > {today_sql}", f.name, "date_future"))
        problems.append(_problem(f"{value} < DATE '1900-01-01'", f.name, "date_range"))
    elif t == "datetime":
        if source_type.upper().startswith("TIMESTAMP") or source_type.upper() == "DATE":
            fs.value_expr = f"CAST({col} AS TIMESTAMP)"
        else:
            fs.value_expr = (
                f"coalesce(try_strptime({text_expr}, '%Y-%m-%d %H:%M:%S'), "
                f"try_strptime({text_expr}, '%Y-%m-%dT%H:%M:%S'), "
                f"try_strptime({text_expr}, '%Y-%m-%d %H:%M'), "
                f"try_strptime({text_expr}, '%Y-%m-%d'))"
            )
        problems.append(_problem(f"{present} AND {value} IS NULL", f.name, "datetime_format"))
        limit = f"TIMESTAMP '{now.strftime('%Y-%m-%d %H:%M:%S')}' + INTERVAL 1 DAY"
        problems.append(_problem(f"{value} > {limit}", f.name, "date_future"))
    elif t == "month":
        if source_type.upper() == "DATE" or source_type.upper().startswith("TIMESTAMP"):
            fs.value_expr = f"strftime({col}, '%Y-%m')"
        else:
            fs.value_expr = text_expr if is_text else f"CAST({col} AS VARCHAR)"
        well_formed = (
            f"length({value}) = 7 AND substr({value}, 5, 1) = '-' "
            f"AND TRY_CAST({value} || '-01' AS DATE) IS NOT NULL"
        )
        problems.append(_problem(f"{present} AND NOT ({well_formed})", f.name, "month_format"))
        problems.append(_problem(f"{value} > '{today:%Y-%m}'", f.name, "date_future"))
    elif t in ("year", "int"):
        target = "INTEGER" if t == "year" else "BIGINT"
        if _is_numeric(source_type):
            fs.value_expr = f"TRY_CAST({col} AS {target})"
            exact = f"CAST({raw} AS DOUBLE) = floor(CAST({raw} AS DOUBLE))"
        else:
            fs.value_expr = f"TRY_CAST({text_expr} AS {target})"
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
        # Text or number alike: parsed as a double (cheaper than a regular expression per
        # cell), finite, at most two decimals (to a 1e-6 tolerance), stored as DECIMAL(18,2).
        fmt_code = "money_format" if t == "money" else "number_format"
        source = col if _is_numeric(source_type) else text_expr
        fs.value_expr = f"TRY_CAST(round(TRY_CAST({source} AS DOUBLE), 2) AS DECIMAL(18,2))"
        d = f"TRY_CAST({raw if _is_numeric(source_type) else text} AS DOUBLE)"
        problems.append(
            _problem(
                f"{present} AND ({d} IS NULL OR NOT isfinite({d}) OR {value} IS NULL)",
                f.name,
                fmt_code,
            )
        )
        problems.append(
            _problem(
                f"{present} AND isfinite({d}) AND abs({d} * 100 - round({d} * 100)) > 1e-6",
                f.name,
                "decimals",
            )
        )
        problems.append(_problem(f"{value} < 0", f.name, "negative"))
    else:  # pragma: no cover - contracts are validated on load
        raise ValueError(t)
    return fs


@dataclass
class RowSql:
    """The layered SQL of a delivery: the distinct-ID table, the typed layer (each value
    computed once) and the problems of each row."""

    fields: dict[str, FieldSql]
    ids_sql: str | None
    typed_sql: str
    bad: str  # boolean: the row has a problem
    problems: str  # 'field:code|…' for rejected rows
    person_key: str | None  # the typed layer's column holding person_key


def row_sql(
    contract: Contract,
    source_types: dict[str, str],
    *,
    today: date,
    now: datetime,
    person_key_sql,
    cell_cap: int = 64 * 1024,
) -> RowSql:
    fields = {
        f.name: field_sql(f, source_types[f.name], today=today, now=now, cell_cap=cell_cap)
        for f in contract.fields
    }
    person = contract.person_field
    columns = []
    for fs in fields.values():
        columns.append(f"{fs.text_expr} AS {fs.text}")
        columns.append(f"{fs.value_expr} AS {fs.value}")
    join = ""
    ids_sql = None
    if person is not None:
        ids_sql = ids_table_sql(person.name, person_key_sql)
        columns += [
            "ids.fmt AS __id_fmt",
            "ids.sum_ok AS __id_sum",
            "ids.birth AS __id_birth",
            "ids.sex AS __id_sex",
            "ids.pk AS __pk",
        ]
        join = f" LEFT JOIN ids ON src.{q(person.name)} = ids.raw"
    typed_sql = f"SELECT src.*, {', '.join(columns)} FROM src{join}"
    problems = []
    if "_shape" in source_types:  # pushed JSON rows: a list or an object where a value belongs
        problems += [
            _problem(f"contains(_shape, {lit('|' + f.name + '|')})", f.name, "not_scalar")
            for f in contract.fields
        ]
    problems += [p for fs in fields.values() for p in fs.problems]
    for check in contract.checks:
        if check.rule == "le" and check.left and check.right:
            left, right = fields[check.left].value, fields[check.right].value
            problems.append(_problem(f"{left} > {right}", check.field, "order"))
        elif check.rule == "id_birth_date_matches":
            problems.append(
                _problem(f"{fields[check.field].value} <> __id_birth", check.field, "id_mismatch")
            )
        elif check.rule == "id_sex_matches":
            problems.append(
                _problem(f"{fields[check.field].value} <> __id_sex", check.field, "id_mismatch")
            )
        else:  # pragma: no cover
            raise ValueError(check.rule)
    bad, described = problems_sql(problems)
    return RowSql(
        fields=fields,
        ids_sql=ids_sql,
        typed_sql=typed_sql,
        bad=bad,
        problems=described,
        person_key="__pk" if person is not None else None,
    )


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
