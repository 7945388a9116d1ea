"""Dataset contracts: one YAML file per dataset under ``exchange/contracts/``.

A contract names the owner department, the fields with their types, which are required, the
natural key, the update cycle, the cross-field checks, which fields never enter the lake, and
for each purpose (核对 verification, 预警 warning, 监督 supervision) which lake fields it may
read. ``id_number`` fields are pseudonymised: in the lake they become ``person_key``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.yamlfiles import safe_load

FIELD_TYPES = {
    "string",
    "id_number",
    "date",
    "datetime",
    "month",
    "year",
    "int",
    "enum",
    "money",
    "decimal",
    "division_code",
}
CYCLE_DAYS = {
    "real_time": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "yearly": 366,
    "on_request": None,
}
CYCLE_LABELS = {
    "real_time": "实时",
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "yearly": "每年",
    "on_request": "按需(核对时查询)",
}
PURPOSE_LABELS = {"verification": "核对", "warning": "预警", "supervision": "监督"}
TYPE_LABELS = {
    "string": "文本",
    "id_number": "身份证号码(入湖时假名化)",
    "date": "日期 YYYY-MM-DD",
    "datetime": "时间 YYYY-MM-DD HH:MM:SS",
    "month": "月份 YYYY-MM",
    "year": "年度",
    "int": "整数",
    "enum": "代码",
    "money": "金额(元,两位小数)",
    "decimal": "数值",
    "division_code": "区划代码(9或12位)",
}
PERSON_KEY = "person_key"


class ContractError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    required: bool = True
    choices: tuple[str, ...] = ()
    values_from: str | None = None
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    lake: bool = True

    @property
    def lake_name(self) -> str:
        return PERSON_KEY if self.type == "id_number" else self.name

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed values: listed in the contract, or those of another declaration
        (``values_from: programmes``, the catalogue's codes), read when first asked for — not
        while every command's start-up parses the contracts."""
        if self.values_from == "programmes":
            return programme_codes()
        return self.choices


@dataclass(frozen=True)
class Check:
    rule: str
    field: str
    message: str
    left: str | None = None
    right: str | None = None


@dataclass(frozen=True)
class Contract:
    dataset: str
    title: str
    owner: str
    cycle: str
    natural_key: tuple[str, ...]
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    purposes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    feeds_registry: str | None = None  # hukou | deaths: exchange.feeds
    period_field: str | None = None  # the field saying which period a row is about

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def cycle_days(self) -> int | None:
        return CYCLE_DAYS[self.cycle]

    @property
    def lake_fields(self) -> list[Field]:
        return [f for f in self.fields if f.lake]

    @property
    def lake_columns(self) -> list[str]:
        return [f.lake_name for f in self.lake_fields]

    @property
    def lake_key(self) -> list[str]:
        by_name = {f.name: f for f in self.fields}
        return [by_name[k].lake_name for k in self.natural_key]

    @property
    def person_field(self) -> Field | None:
        return next((f for f in self.fields if f.type == "id_number"), None)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def purpose_fields(self, purpose: str) -> tuple[str, ...]:
        return self.purposes.get(purpose, ())


VALUES_FROM = ("programmes",)  # declarations a field's values may come from


def programme_codes() -> tuple[str, ...]:
    """The programme codes of the catalogue (policy/data/programmes.yaml, the one source of
    programmes; plain data with no Django or OpenFisca behind it)."""
    from dajiuzhu.policy.catalogue import codes

    return codes()


def town_codes() -> frozenset[str]:
    text = resources.files("dajiuzhu.core").joinpath("data", "divisions.csv").read_text("utf-8")
    return frozenset(r["code"] for r in csv.DictReader(text.splitlines()) if r["level"] == "town")


def _parse(raw: dict) -> Contract:
    fields = []
    for f in raw["fields"]:
        if f["type"] not in FIELD_TYPES:
            raise ContractError(f"{raw['dataset']}.{f['name']}: unknown type {f['type']}")
        values_from = f.get("values_from")
        if values_from not in (None, *VALUES_FROM):
            raise ContractError(f"{raw['dataset']}.{f['name']}: unknown values_from {values_from}")
        fields.append(
            Field(
                name=f["name"],
                type=f["type"],
                title=f.get("title", f["name"]),
                required=f.get("required", True),
                choices=tuple(str(v) for v in f.get("values") or ()),
                values_from=values_from,
                max_length=f.get("max_length"),
                min=f.get("min"),
                max=f.get("max"),
                lake=f.get("lake", True),
            )
        )
    contract = Contract(
        dataset=raw["dataset"],
        title=raw["title"],
        owner=raw["owner"],
        cycle=raw["cycle"],
        natural_key=tuple(raw["natural_key"]),
        fields=tuple(fields),
        checks=tuple(Check(**c) for c in raw.get("checks", [])),
        purposes={p: tuple(v) for p, v in (raw.get("purposes") or {}).items()},
        description=raw.get("description", ""),
        feeds_registry=_feed(raw),
        period_field=raw.get("period_field"),
    )
    _validate(contract)
    return contract


def _validate(c: Contract) -> None:
    names = set(c.columns)
    if c.cycle not in CYCLE_DAYS:
        raise ContractError(f"{c.dataset}: unknown cycle {c.cycle}")
    for k in c.natural_key:
        if k not in names:
            raise ContractError(f"{c.dataset}: natural key {k} is not a field")
    lake = set(c.lake_columns)
    for purpose, allowed in c.purposes.items():
        if purpose not in PURPOSE_LABELS:
            raise ContractError(f"{c.dataset}: unknown purpose {purpose}")
        unknown = set(allowed) - lake
        if unknown:
            raise ContractError(f"{c.dataset}: purpose {purpose} names {sorted(unknown)}")
    if c.period_field is not None and c.period_field not in names:
        raise ContractError(f"{c.dataset}: period_field {c.period_field} is not a field")
    for check in c.checks:
        for name in (check.field, check.left, check.right):
            if name is not None and name not in names:
                raise ContractError(f"{c.dataset}: check names unknown field {name}")


@cache
def all_contracts() -> dict[str, Contract]:
    folder = resources.files("dajiuzhu.exchange").joinpath("contracts")
    contracts = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            contract = _parse(safe_load(entry.read_text("utf-8")))
            contracts[contract.dataset] = contract
    return contracts


def get_contract(dataset: str) -> Contract:
    try:
        return all_contracts()[dataset]
    except KeyError:
        raise ContractError(f"未知的数据集:{dataset}") from None


def contract_or_error(dataset: str) -> Contract:
    """The contract of ``dataset``, or the user's error naming the unknown dataset."""
    try:
        return get_contract(dataset)
    except ContractError:
        raise ServiceError("dataset.unknown", f"未知的数据集:{dataset}", field="dataset") from None


REGISTRY_FEEDS = ("hukou", "deaths")  # exchange.feeds.FEEDS


def _feed(raw: dict) -> str | None:
    feed = raw.get("feeds_registry")
    if feed is not None and feed not in REGISTRY_FEEDS:
        raise ContractError(
            f"{raw.get('dataset')}: feeds_registry must be one of {', '.join(REGISTRY_FEEDS)}"
        )
    return feed
