"""HTTP API of the data exchange: departments push rows and files with their tokens, read
shared datasets under agreements, and follow their batches."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.apiauth import session_auth, token_auth
from dajiuzhu.core.models import ApiToken, User
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.exchange import selectors, services
from dajiuzhu.exchange.models import Batch, Channel
from dajiuzhu.web.requests import ApiRequest

router = Router(tags=["数据交换"], auth=[token_auth, session_auth])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
NONE = {"x-personal-data": "none"}
DATASET = r"^[a-z_]{2,40}$"


def _who(request: ApiRequest) -> tuple[User | None, ApiToken | None]:
    if isinstance(request.auth, ApiToken):
        return None, request.auth
    if isinstance(request.auth, User):
        return request.auth, None
    raise AccessDenied


class FieldOut(Schema):
    name: str
    type: str
    title: str
    required: bool
    values: list[str]


class ContractOut(Schema):
    dataset: str
    title: str
    owner: str
    cycle: str
    natural_key: list[str]
    fields: list[FieldOut]
    purposes: dict[str, list[str]]


class BatchOut(Schema):
    batch: int
    dataset: str
    department: str
    status: str
    channel: str
    received_at: datetime
    rows: int
    accepted: int
    rejected: int
    seconds: float
    completeness: float | None
    validity: float | None
    accuracy: float | None
    timeliness: float | None
    duplicate_of: int | None
    error: str = Field(..., description="why it failed: a row, a column, a reason; never a value")
    note: str = Field("", description="e.g. an empty delivery (header only): rows is 0")


def _batch_out(b: Batch) -> BatchOut:
    return BatchOut(
        batch=b.pk,
        dataset=b.dataset,
        department=b.department_id,
        status=b.status,
        channel=b.channel,
        received_at=b.received_at,
        rows=b.rows,
        accepted=b.accepted,
        rejected=b.rejected,
        seconds=round(b.seconds, 3),
        completeness=b.completeness,
        validity=b.validity,
        accuracy=b.accuracy,
        timeliness=b.timeliness,
        duplicate_of=b.duplicate_of_id,
        error=b.error,
        note=b.note,
    )


class ProblemOut(Schema):
    field: str
    title: str
    code: str
    message: str


class QuarantineOut(Schema):
    row_number: int
    problems: list[ProblemOut]
    values: dict[str, str | None] = {}


class PushIn(Schema):
    rows: list[dict] = Field(..., min_length=1, max_length=services.MAX_PUSH_ROWS)


class PushOut(BatchOut):
    quarantine: list[QuarantineOut]


class RowsOut(Schema):
    dataset: str
    purpose: str
    fields: list[str]
    page: int
    page_size: int
    total: int
    rows: list[dict]


class SearchIn(Schema):
    purpose: str = Field(..., pattern="^(verification|warning|supervision)$")
    id_numbers: list[str] = Field(..., min_length=1, max_length=500)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(100, ge=1, le=1000)


class RetractIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


@router.get("/exchange/contracts", response=list[ContractOut], auth=None, openapi_extra=NONE)
def contracts(request: ApiRequest):
    """The dataset contracts (「共享的范围、使用场景、共享方式、更新周期」)."""
    return [
        ContractOut(
            dataset=c.dataset,
            title=c.title,
            owner=c.owner,
            cycle=c.cycle,
            natural_key=list(c.natural_key),
            fields=[
                FieldOut(
                    name=f.name,
                    type=f.type,
                    title=f.title,
                    required=f.required,
                    values=list(f.values),
                )
                for f in c.fields
            ],
            purposes={k: list(v) for k, v in c.purposes.items()},
        )
        for c in selectors.contract_list()
    ]


@router.post(
    "/exchange/{dataset}/rows",
    response={200: PushOut, **ERRORS},
    openapi_extra={"x-personal-data": "delivery"},
)
def push_rows(request: ApiRequest, dataset: str, payload: PushIn):
    """Push up to 10,000 JSON rows (the owning department). Good rows load; bad rows are
    quarantined and listed in the answer."""
    actor, token = _who(request)
    result = services.batch_ingest_rows(
        actor=actor, token=token, dataset=dataset, rows=payload.rows
    )
    quarantine = selectors.quarantine_rows(
        user=actor, token=token, batch_id=result.batch.pk, with_values=False, limit=1000
    )
    return PushOut(
        **_batch_out(result.batch).dict(),
        quarantine=[
            QuarantineOut(row_number=r.row_number, problems=[ProblemOut(**p) for p in r.problems])
            for r in quarantine
        ],
    )


@router.post(
    "/exchange/{dataset}/files",
    response={202: BatchOut, **ERRORS},
    openapi_extra={"x-personal-data": "delivery"},
)
def push_file(
    request: ApiRequest, dataset: str, file: File[UploadedFile], format: Form[str | None] = None
):
    """Upload a CSV/XLSX/Parquet file; it is queued and processed by the worker. Follow it at
    GET /exchange/batches/{batch}."""
    actor, token = _who(request)
    batch = services.batch_queue_upload(
        actor=actor, token=token, dataset=dataset, upload=file, fmt=format, channel=Channel.API_FILE
    )
    batch.refresh_from_db()
    return Status(202, _batch_out(batch))


@router.get(
    "/exchange/batches/{batch_id}",
    response={200: BatchOut, **ERRORS},
    openapi_extra={"x-personal-data": "none"},
)
def batch_detail(request: ApiRequest, batch_id: int):
    actor, token = _who(request)
    return _batch_out(selectors.batch_get(user=actor, token=token, batch_id=batch_id))


@router.get(
    "/exchange/batches/{batch_id}/quarantine",
    response={200: list[QuarantineOut], **ERRORS},
    openapi_extra={"x-personal-data": "batch"},
)
def batch_quarantine(request: ApiRequest, batch_id: int, limit: int = Query(1000, ge=1, le=100000)):
    """The quarantined rows with their original values (the delivering department only)."""
    actor, token = _who(request)
    rows = selectors.quarantine_rows(
        user=actor, token=token, batch_id=batch_id, with_values=True, limit=limit
    )
    return [
        QuarantineOut(
            row_number=r.row_number, problems=[ProblemOut(**p) for p in r.problems], values=r.values
        )
        for r in rows
    ]


@router.post(
    "/exchange/batches/{batch_id}/retract",
    response={200: BatchOut, **ERRORS},
    openapi_extra={"x-personal-data": "none"},
)
def batch_retract(request: ApiRequest, batch_id: int, payload: RetractIn):
    actor, _token = _who(request)
    if actor is None:
        raise AccessDenied  # retraction is a steward's decision, made in person
    return _batch_out(services.batch_retract(actor=actor, batch_id=batch_id, reason=payload.reason))


def _rows_out(page) -> RowsOut:
    rows = [
        {
            k: (
                v.isoformat()
                if isinstance(v, date | datetime)
                else (str(v) if v is not None and not isinstance(v, int | float | str) else v)
            )
            for k, v in r.items()
        }
        for r in page.rows
    ]
    return RowsOut(
        dataset=page.dataset,
        purpose=page.purpose,
        fields=page.fields,
        page=page.page,
        page_size=page.page_size,
        total=page.total,
        rows=rows,
    )


@router.get(
    "/exchange/{dataset}/rows",
    response={200: RowsOut, **ERRORS},
    openapi_extra={"x-personal-data": "shared_rows"},
)
def shared_rows(
    request: ApiRequest,
    dataset: str,
    purpose: str = Query(..., pattern="^(verification|warning|supervision)$"),
    person: int | None = Query(None, description="person_key"),
    division: str | None = Query(None, pattern=r"^\d{6,12}$"),
    page: int = Query(1, ge=1, le=100000),
    page_size: int = Query(100, ge=1, le=1000),
):
    """Read a dataset under a sharing agreement: only the fields the agreement allows for the
    stated purpose; every read is audited with that purpose."""
    actor, token = _who(request)
    result = selectors.dataset_rows(
        actor=actor,
        token=token,
        dataset=dataset,
        purpose=purpose,
        person_keys=[person] if person is not None else None,
        division=division,
        page=page,
        page_size=page_size,
    )
    return _rows_out(result)


@router.post(
    "/exchange/{dataset}/rows/search",
    response={200: RowsOut, **ERRORS},
    openapi_extra={"x-personal-data": "shared_rows"},
)
def shared_rows_by_id(request: ApiRequest, dataset: str, payload: SearchIn):
    """As GET /rows, for the persons whose ID numbers are given in the body (never in URLs)."""
    actor, token = _who(request)
    keys = selectors.person_keys_for(payload.id_numbers)
    result = selectors.dataset_rows(
        actor=actor,
        token=token,
        dataset=dataset,
        purpose=payload.purpose,
        person_keys=keys,
        page=payload.page,
        page_size=payload.page_size,
    )
    return _rows_out(result)
