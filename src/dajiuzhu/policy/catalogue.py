"""The programme catalogue (救助政策库): the city's 32 assistance programmes of 14 departments —
the one source every layer reads (no Django, no OpenFisca here).

Content lives in ``data/programmes.yaml`` of this package (one entry per programme, its
comments say what each field means); this module reads it into frozen, typed models,
validated at load (pydantic): a malformed entry fails the first import that reads the
catalogue, with the programme and the field named.

- :func:`load_catalogue` — every :class:`Programme`, in file order (cached).
- :func:`programme` — one programme by code (``KeyError`` when unknown).
- :func:`codes`, :func:`names` — the codes in order, and code → name.
- :func:`by_department` — programmes grouped by owner department code.
- :func:`results` — what the rules compute, programme by programme (explanations, 政策找人).
- :func:`limit_value` — the value of one of an intake's limit parameters on a day.

A programme's ``results`` name the OpenFisca variables (see :mod:`dajiuzhu.policy.engine`)
that decide its eligibility and amount; ``intake`` holds what the front door needs: the
documents, 告知承诺 and 容缺受理, who decides at which level, the workflow and its steps, each
limit named by a dated parameter under ``policy/parameters/handling``. That every department,
variable and parameter named here exists is checked by ``tests/policy/test_catalogue.py``.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from dajiuzhu.core.yamlfiles import safe_load

__all__ = [
    "CATEGORIES",
    "STEP_LABELS",
    "DecidedBy",
    "Intake",
    "Programme",
    "Publicity",
    "Result",
    "Review",
    "Step",
    "by_department",
    "codes",
    "limit_value",
    "load_catalogue",
    "names",
    "programme",
    "results",
]

CATEGORIES: tuple[str, ...] = ("基本生活救助", "专项救助", "急难救助", "社会力量参与")
STEP_LABELS: dict[str, str] = {
    "accept": "受理",
    "investigate": "入户调查",
    "check": "家庭经济状况核对",
    "town_review": "乡镇（街道）初审",
    "publicity": "公示",
    "decide": "审核确认（决定）",
    "notice": "告知（送达决定）",
}
# The shorter workflow of the programmes without a statutory procedure of their own.
SHORT_STEPS = ("accept", "decide", "notice")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
ParameterPath = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")]
StepCode = Literal["accept", "investigate", "check", "town_review", "publicity", "decide", "notice"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Result(_Frozen):
    """One result the rules compute for a programme: the household or each person is
    covered when ``eligible`` is true (a rate: when it is above 0); ``amount`` is the monthly
    money in yuan, ``rate`` a reimbursement rate."""

    code: Code
    label: Text
    entity: Literal["household", "person"]
    eligible: Code
    amount: Code | None = None
    rate: Code | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        named = (self.eligible, self.amount, self.rate)
        return tuple(dict.fromkeys(v for v in named if v is not None))


class Step(_Frozen):
    """One step of the intake workflow; ``limit`` (a parameter) counts from the step
    ``counted_from``; a step without a limit is bounded by the whole case."""

    step: StepCode
    limit: ParameterPath | None = None
    counted_from: StepCode | None = Field(None, alias="from")

    @property
    def label(self) -> str:
        return STEP_LABELS[self.step]


class DecidedBy(_Frozen):
    department: Code
    level: Literal["town", "district"]


class Publicity(_Frozen):
    """公示 at the village/community: ``minors`` — whether minors' cases are posted;
    ``objection`` — the limit of a re-investigation after an objection, where one is set."""

    minors: StrictBool
    objection: ParameterPath | None = None


class Review(_Frozen):
    """复核 intervals (months): households with a stable situation, and households with
    able-bodied members whose income is irregular."""

    stable: ParameterPath
    irregular: ParameterPath | None = None


class Intake(_Frozen):
    """What the front door needs to accept and handle an application."""

    documents: tuple[Text, ...]
    commitment: StrictBool  # a signed 告知承诺 replaces certificates
    missing_documents: StrictBool  # 容缺受理: accepted with a list of what is still owed
    decided_by: DecidedBy
    workflow: Literal["statutory", "short"]
    steps: tuple[Step, ...]
    whole_case: ParameterPath
    extended_case: ParameterPath | None = None
    publicity: Publicity | None = None
    advance_payment: ParameterPath | None = None  # 先行救助: limit to complete the file after
    review: Review | None = None

    @model_validator(mode="after")
    def _steps_make_a_workflow(self) -> Intake:
        order = [s.step for s in self.steps]
        if len(set(order)) != len(order):
            raise ValueError(f"a step appears twice: {order}")
        if order[:1] != ["accept"] or order[-1:] != ["notice"] or "decide" not in order:
            raise ValueError(
                f"steps must start with accept, include decide, end with notice: {order}"
            )
        for i, s in enumerate(self.steps):
            if s.counted_from is not None and s.counted_from not in order[:i]:
                raise ValueError(f"step {s.step} counts from {s.counted_from}, not an earlier step")
            if (s.limit is None) != (s.counted_from is None):
                raise ValueError(f"step {s.step}: give both limit and from, or neither")
        if self.workflow == "short" and tuple(order) != SHORT_STEPS:
            raise ValueError(f"the short workflow has the steps {list(SHORT_STEPS)}, not {order}")
        if ("publicity" in order) != (self.publicity is not None):
            raise ValueError("a publicity step and the publicity settings go together")
        return self

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter this intake names, in order, once."""
        named = [s.limit for s in self.steps]
        named += [self.whole_case, self.extended_case, self.advance_payment]
        if self.publicity is not None:
            named.append(self.publicity.objection)
        if self.review is not None:
            named += [self.review.stable, self.review.irregular]
        return tuple(dict.fromkeys(p for p in named if p is not None))


def _with_code(value: Any, code: str) -> Any:
    """A copy of ``value`` with ``{code}`` in its strings replaced (the YAML shares one list of
    steps between the short-workflow programmes through an anchor)."""
    if isinstance(value, str):
        return value.replace("{code}", code)
    if isinstance(value, dict):
        return {k: _with_code(v, code) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_code(v, code) for v in value]
    return value


class Programme(_Frozen):
    """One assistance programme as staff, residents, the rules and the front door see it.

    ``target``/``benefit``/``legal_basis`` are staff wording; ``plain``/``how_to_apply`` are
    for residents."""

    code: Code
    name: Text
    department: Code
    category: Literal["基本生活救助", "专项救助", "急难救助", "社会力量参与"]
    # How the money goes out: monthly on the roster from the month after approval; once, on
    # the roster of the month after approval; in kind (services or goods, no money).
    payment: Literal["monthly", "once", "in_kind"] = "once"
    target: Text
    benefit: Text
    legal_basis: Text
    plain: Text
    how_to_apply: Text
    results: tuple[Result, ...]
    intake: Intake

    @model_validator(mode="before")
    @classmethod
    def _fill_code(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            return {**data, "intake": _with_code(data.get("intake"), data["code"])}
        return data

    @property
    def variables(self) -> tuple[str, ...]:
        """The OpenFisca variables that decide eligibility or amount; () if not computable."""
        return tuple(dict.fromkeys(v for r in self.results for v in r.variables))

    @property
    def computable(self) -> bool:
        return bool(self.results)


def _programme(entry: Any) -> Programme:
    try:
        return Programme.model_validate(entry)
    except ValidationError as error:
        code = entry.get("code") if isinstance(entry, dict) else None
        raise ValueError(f"programme {code!r} in programmes.yaml: {error}") from None


@functools.cache
def load_catalogue() -> tuple[Programme, ...]:
    """Every programme of ``data/programmes.yaml``, in file order; raises ``ValueError`` (a
    pydantic ``ValidationError``) when an entry is malformed, or when a programme or result
    code repeats."""
    text = resources.files("dajiuzhu.policy").joinpath("data", "programmes.yaml").read_text("utf-8")
    entries = safe_load(text)
    if not isinstance(entries, list):
        raise ValueError("programmes.yaml must be a list of programmes")
    programmes = tuple(_programme(entry) for entry in entries)
    for label, found in (
        ("programme", [p.code for p in programmes]),
        ("result", [r.code for p in programmes for r in p.results]),
    ):
        duplicates = sorted({c for c in found if found.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate {label} codes: {duplicates}")
    return programmes


@functools.cache
def _by_code() -> dict[str, Programme]:
    return {p.code: p for p in load_catalogue()}


def programme(code: str) -> Programme:
    """The programme with this code; ``KeyError`` when there is none."""
    try:
        return _by_code()[code]
    except KeyError:
        raise KeyError(code) from None


def codes() -> tuple[str, ...]:
    """The programme codes in catalogue order (the values of ``program_code`` in the lake)."""
    return tuple(p.code for p in load_catalogue())


def names() -> dict[str, str]:
    """Programme code → name, in catalogue order. A fresh dict each call."""
    return {p.code: p.name for p in load_catalogue()}


def by_department() -> dict[str, list[Programme]]:
    """Programmes grouped by owner department code, departments in order of first appearance,
    programmes in catalogue order. A fresh dict each call: the caller may change it."""
    grouped: dict[str, list[Programme]] = {}
    for p in load_catalogue():
        grouped.setdefault(p.department, []).append(p)
    return grouped


def results() -> tuple[Result, ...]:
    """Every result the rules compute, programme by programme in catalogue order."""
    return tuple(r for p in load_catalogue() for r in p.results)


def limit_value(parameters: Any, path: str) -> Any:
    """The value of the parameter ``path`` in ``parameters`` — the rules' parameters at an
    instant (``system.parameters(date)``), so that administrators' dated values count."""
    node = parameters
    for part in path.split("."):
        node = node[part]
    return node
