from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema, Status

from dajiuzhu.core.apiauth import session_auth
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.schemas import ErrorOut
from dajiuzhu.registry import selectors, services
from dajiuzhu.registry.models import Category, Person, Relation
from dajiuzhu.web.requests import ApiRequest
from dajiuzhu.web.requests import api_user as _user

router = Router(tags=["人口与家庭"], auth=session_auth)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
PURPOSE_PATTERN = "^(" + "|".join(Purpose.values) + ")$"


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: date
    id_number: str = Field(..., description="masked unless the caller's role needs it whole")
    phone: str
    hukou_division: str
    status: str


def _person_out(user: User, person: Person) -> PersonOut:
    return PersonOut(
        id=person.pk,
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number=selectors.display_id_number(user, person),
        phone=selectors.display_phone(user, person),
        hukou_division=person.hukou_division_id,
        status=person.status,
    )


class PersonIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=18)
    name: str = Field(..., min_length=1, max_length=50)
    hukou_division: str = Field(..., min_length=6, max_length=15, pattern=r"^\d+$")
    residence_division: str | None = Field(None, min_length=6, max_length=15, pattern=r"^\d+$")
    phone: str | None = Field(None, max_length=20)


class LookupIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=18)
    purpose: str = Field(Purpose.CASEWORK.value, pattern=PURPOSE_PATTERN)


class HouseholdIn(Schema):
    household_no: str = Field(..., min_length=1, max_length=30)
    division: str = Field(..., min_length=6, max_length=15, pattern=r"^\d+$")
    address: str = Field("", max_length=200)


class HouseholdOut(Schema):
    id: int
    household_no: str
    division: str = Field(..., alias="division_id")
    address: str


class HouseholdRowOut(Schema):
    id: int
    household_no: str
    division: str
    head_name: str
    members: int


class CategoryOut(Schema):
    code: str
    label: str
    start_date: date
    end_date: date | None
    current: bool


class HouseholdMemberOut(Schema):
    person_id: int
    name: str
    sex: str
    birth_date: date
    age: int
    relation: str
    id_number: str
    phone: str
    status: str
    hukou_division: str
    categories: list[CategoryOut]


class HouseholdFileOut(Schema):
    household: HouseholdOut
    members: list[HouseholdMemberOut]
    id_numbers_masked: bool


class HouseholdMemberIn(Schema):
    person_id: int
    relation: Relation
    start_date: date


class CategoryIn(Schema):
    category: Category
    start_date: date
    end_date: date | None = None


@router.post(
    "/persons",
    response={201: PersonOut, **ERRORS},
    openapi_extra={"x-personal-data": "person_create"},
)
def person_create(request: ApiRequest, payload: PersonIn):
    user = _user(request)
    person = services.person_create(
        actor=user,
        id_number=payload.id_number,
        name=payload.name,
        hukou_division_code=payload.hukou_division,
        residence_division_code=payload.residence_division,
        phone=payload.phone,
    )
    return Status(201, _person_out(user, person))


@router.post(
    "/persons/lookup",
    response={200: PersonOut, **ERRORS},
    openapi_extra={"x-personal-data": "person_lookup"},
)
def person_lookup(request: ApiRequest, payload: LookupIn):
    """Find a person by exact ID number (sent in the body, never in the URL)."""
    user = _user(request)
    person = selectors.person_lookup(
        user=user, id_number=payload.id_number, purpose=payload.purpose
    )
    return _person_out(user, person)


@router.get(
    "/persons/{person_id}",
    response={200: PersonOut, **ERRORS},
    openapi_extra={"x-personal-data": "person"},
)
def person_detail(
    request: ApiRequest,
    person_id: int,
    purpose: str = Query(Purpose.CASEWORK.value, pattern=PURPOSE_PATTERN),
):
    user = _user(request)
    return _person_out(user, selectors.person_get(user=user, person_id=person_id, purpose=purpose))


@router.post(
    "/persons/{person_id}/categories",
    response={201: CategoryOut, **ERRORS},
    openapi_extra={"x-personal-data": "person"},
)
def category_add(request: ApiRequest, person_id: int, payload: CategoryIn):
    user = _user(request)
    person = selectors.person_get(user=user, person_id=person_id, purpose=Purpose.CASEWORK)
    entry = services.category_add(
        actor=user,
        person=person,
        category=payload.category,
        start_date=payload.start_date,
        end_date=payload.end_date,
    )
    return Status(
        201,
        CategoryOut(
            code=entry.category,
            label=entry.get_category_display(),
            start_date=entry.start_date,
            end_date=entry.end_date,
            current=entry.end_date is None,
        ),
    )


@router.get(
    "/households",
    response={200: list[HouseholdRowOut], **ERRORS},
    openapi_extra={"x-personal-data": "household_list"},
)
def household_search(
    request: ApiRequest,
    q: str = Query("", max_length=50),
    purpose: str = Query(Purpose.CASEWORK.value, pattern=PURPOSE_PATTERN),
):
    """Search households in scope by household number or a member's name. To search by ID
    number, use POST /persons/lookup (ID numbers never travel in URLs)."""
    return selectors.household_search(user=_user(request), query=q, purpose=purpose)


@router.post(
    "/households",
    response={201: HouseholdOut, **ERRORS},
    openapi_extra={"x-personal-data": "household_create"},
)
def household_create(request: ApiRequest, payload: HouseholdIn):
    household = services.household_create(
        actor=_user(request),
        household_no=payload.household_no,
        division_code=payload.division,
        address=payload.address,
    )
    return Status(201, household)


@router.get(
    "/households/{household_id}",
    response={200: HouseholdFileOut, **ERRORS},
    openapi_extra={"x-personal-data": "household"},
)
def household_detail(
    request: ApiRequest,
    household_id: int,
    purpose: str = Query(Purpose.CASEWORK.value, pattern=PURPOSE_PATTERN),
):
    """The household file (一户一档)."""
    f = selectors.household_file(user=_user(request), household_id=household_id, purpose=purpose)
    return HouseholdFileOut(
        household=f.household,  # type: ignore[arg-type]  # validated from its attributes
        members=[
            HouseholdMemberOut(
                **{**vars(m), "categories": [CategoryOut(**vars(c)) for c in m.categories]}
            )
            for m in f.members
        ],
        id_numbers_masked=f.id_numbers_masked,
    )


@router.post(
    "/households/{household_id}/members",
    response={201: HouseholdRowOut, **ERRORS},
    openapi_extra={"x-personal-data": "household"},
)
def member_add(request: ApiRequest, household_id: int, payload: HouseholdMemberIn):
    user = _user(request)
    household = selectors.household_get(user=user, household_id=household_id)
    person = selectors.person_get(user=user, person_id=payload.person_id, purpose=Purpose.CASEWORK)
    services.membership_add(
        actor=user,
        household=household,
        person=person,
        relation=payload.relation,
        start_date=payload.start_date,
    )
    rows = selectors.household_search(
        user=user, query=household.household_no, purpose=Purpose.CASEWORK, limit=1
    )
    return Status(201, rows[0])
