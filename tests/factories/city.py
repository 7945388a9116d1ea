"""A small city for the warning rules, loaded through the real ingestion services.

``City`` collects rows per dataset (as a department would send them) and ``load()`` pushes
them with ``batch_ingest_rows``: contract checks, quarantine, pseudonymisation and the registry
feed all run as in production. Each scenario person is named after what a rule should do with
them (``med_return``, ``not_recipient``, …).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from dajiuzhu.core import crypto
from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.exchange.services import batch_ingest_rows

YEAR = 2024
TN_TOWN = "320402001"  # 天宁区 雕庄街道
TN_COMMUNITY = "320402001001"
WJ_TOWN = "320412001"
WJ_COMMUNITY = "320412001001"
_seq = itertools.count(1)


@dataclass
class Person:
    id_number: str
    sex: str
    birth: date
    household_no: str
    division: str
    name: str

    @property
    def key(self) -> int:
        return crypto.person_key(self.id_number)


@dataclass
class City:
    rows: dict[str, list[dict]] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    claim_ids: dict[str, list[str]] = field(default_factory=dict)  # by ID number
    _claims: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, dataset: str, **row) -> dict:
        clean = {k: ("" if v is None else str(v)) for k, v in row.items()}
        self.rows.setdefault(dataset, []).append(clean)
        return clean

    def person(
        self,
        label: str,
        *,
        birth: date = date(1980, 5, 17),
        household_no: str | None = None,
        relation: str = "head",
        division: str = TN_COMMUNITY,
        status: str = "normal",
        hukou: bool = True,
    ) -> Person:
        seq = next(_seq)
        number = make_id_number(division[:6], birth, seq % 1000)
        sex = "M" if (seq % 1000) % 2 else "F"
        p = Person(
            id_number=number,
            sex=sex,
            birth=birth,
            household_no=household_no or f"HW{seq:05d}",
            division=division,
            name=f"预警{label}",
        )
        self.people[label] = p
        if hukou:
            self.add(
                "hukou",
                id_number=number,
                name=p.name,
                sex=sex,
                birth_date=birth.isoformat(),
                household_no=p.household_no,
                relation_to_head=relation,
                division_code=division,
                address="测试路1号",
                status=status,
            )
        return p

    def claim(
        self,
        p: Person,
        day: str,
        out_of_pocket: str,
        claim_type: str = "inpatient",
        claim_id: str | None = None,
    ):
        claim_id = claim_id or f"W{next(self._claims):07d}"
        self.claim_ids.setdefault(p.id_number, []).append(claim_id)
        return self.add(
            "medical_claims",
            claim_id=claim_id,
            id_number=p.id_number,
            settlement_date=day,
            claim_type=claim_type,
            total_cost=out_of_pocket,
            fund_paid="0",
            critical_illness_paid="0",
            assistance_paid="0",
            out_of_pocket=out_of_pocket,
            in_policy_out_of_pocket="0",
            hospital_code="H01",
        )

    def recipient(self, p: Person, program: str, start: str, end: str | None = None):
        return self.add(
            "assistance_recipients",
            id_number=p.id_number,
            program_code=program,
            household_no=p.household_no,
            start_date=start,
            end_date=end,
            monthly_amount="800.00",
        )

    def insured(self, p: Person, year: int = YEAR):
        return self.add(
            "insured_persons",
            id_number=p.id_number,
            year=year,
            insurance_type="resident",
            division_code=p.division[:9],
        )

    def wages(self, p: Person, first: str, months: int, wage: str):
        y, m = int(first[:4]), int(first[5:7])
        for i in range(months):
            yy, mm = divmod(m - 1 + i, 12)
            self.add(
                "wages",
                id_number=p.id_number,
                month=f"{y + yy}-{mm + 1:02d}",
                employer_code="E01",
                wage=wage,
            )

    def death(self, p: Person, day: str):
        return self.add(
            "deaths", id_number=p.id_number, death_date=day, reported_at=f"{day} 10:00:00"
        )

    def accident(self, p: Person, accident_id: str, day: str, injury: str):
        return self.add(
            "traffic_accidents",
            accident_id=accident_id,
            id_number=p.id_number,
            accident_date=day,
            injury=injury,
        )

    def incident(self, p: Person, incident_id: str, day: str, loss_level: str, kind="flood"):
        return self.add(
            "incidents",
            incident_id=incident_id,
            id_number=p.id_number,
            incident_date=day,
            kind=kind,
            loss_level=loss_level,
            loss_amount="30000.00",
        )

    def certificate(self, p: Person, number: str, grade: int, kind: str, day: str, status="valid"):
        return self.add(
            "disability_certificates",
            certificate_no=number,
            id_number=p.id_number,
            disability_kind=kind,
            grade=grade,
            issued_date=day,
            status=status,
        )

    def income(self, year: int, amount: str):
        return self.add("disposable_income", year=year, amount=amount)

    def load(self, *datasets: str) -> dict[str, int]:
        """Ingest the collected rows (hukou first); returns the batch id per dataset."""
        order = ["hukou", *sorted(d for d in self.rows if d != "hukou")]
        batches = {}
        for dataset in order:
            if datasets and dataset not in datasets:
                continue
            rows = self.rows.get(dataset)
            if rows:
                result = batch_ingest_rows(actor=None, token=None, dataset=dataset, rows=rows)
                assert result.batch.status == "published", result.batch.error
                batches[dataset] = result.batch.pk
        self.rows = {}
        return batches


def build_city() -> City:
    """Every rule's positive and negative cases for YEAR, in 天宁区 (and one in 武进区)."""
    c = City()
    c.income(YEAR - 1, "51000.00")
    # MED_RETURN: 低保 in the year, 12,000 out of pocket (and an earlier year's claim ignored)
    p = c.person("med_return")
    c.recipient(p, "dibao", "2022-01-01")
    c.claim(p, f"{YEAR}-02-03", "7000.00")
    c.claim(p, f"{YEAR}-05-09", "5000.00", "outpatient")
    c.claim(p, f"{YEAR - 1}-12-30", "9000.00")
    # exactly the threshold: not "more than"
    p = c.person("at_threshold")
    c.recipient(p, "tekun", "2022-01-01")
    c.claim(p, f"{YEAR}-03-01", "10000.00")
    # status ended before the year
    p = c.person("status_ended")
    c.recipient(p, "dibao", "2020-01-01", f"{YEAR - 1}-12-31")
    c.claim(p, f"{YEAR}-03-01", "15000.00")
    # 临时救助 is not one of the four statuses
    p = c.person("linshi_only")
    c.recipient(p, "linshi", f"{YEAR}-01-01")
    c.claim(p, f"{YEAR}-03-01", "15000.00")
    # MED_FALL: insured, not a recipient, above last year's income
    p = c.person("med_fall")
    c.insured(p)
    c.claim(p, f"{YEAR}-04-01", "40000.00")
    c.claim(p, f"{YEAR}-08-01", "20000.00", "pharmacy")
    # insured and a 特困 recipient above the income: MED_RETURN only, never both
    p = c.person("both_rules")
    c.insured(p)
    c.recipient(p, "tekun", f"{YEAR}-06-01")
    c.claim(p, f"{YEAR}-07-01", "70000.00")
    # not insured in the year
    p = c.person("not_insured")
    c.insured(p, YEAR - 1)
    c.claim(p, f"{YEAR}-07-01", "70000.00")
    # TRAFFIC
    p = c.person("traffic")
    c.accident(p, "AC-1", f"{YEAR}-03-03", "serious")
    c.accident(p, "AC-2", f"{YEAR}-04-04", "minor")
    p = c.person("traffic_fatal")
    c.accident(p, "AC-3", f"{YEAR}-09-09", "fatal")
    p = c.person("traffic_last_year")
    c.accident(p, "AC-4", f"{YEAR - 1}-09-09", "fatal")
    # DISASTER
    p = c.person("disaster", division=WJ_COMMUNITY)
    c.incident(p, "IN-1", f"{YEAR}-07-20", "major")
    p = c.person("disaster_minor")
    c.incident(p, "IN-2", f"{YEAR}-07-20", "minor")
    # EARNER_DEATH: 44 years old, the household's main wage, a spouse remains
    earner = c.person("earner", birth=date(1980, 1, 10), household_no="HE1")
    spouse = c.person(
        "earner_spouse", birth=date(1982, 2, 2), household_no="HE1", relation="spouse"
    )
    c.wages(earner, f"{YEAR - 1}-01", 24, "8000.00")
    c.wages(spouse, f"{YEAR - 1}-01", 24, "3000.00")
    c.death(earner, f"{YEAR}-06-15")
    # died at 70: not of working age
    old = c.person("old_death", birth=date(1954, 1, 1), household_no="HE2")
    c.person("old_spouse", birth=date(1956, 1, 1), household_no="HE2", relation="spouse")
    c.wages(old, f"{YEAR - 1}-01", 12, "8000.00")
    c.death(old, f"{YEAR}-03-01")
    # lived alone: no other member remains
    alone = c.person("alone", birth=date(1984, 4, 4), household_no="HE3")
    c.wages(alone, f"{YEAR - 1}-01", 12, "8000.00")
    c.death(alone, f"{YEAR}-03-01")
    # earned less than the spouse
    lesser = c.person("lesser", birth=date(1985, 5, 5), household_no="HE4")
    more = c.person("lesser_spouse", birth=date(1985, 6, 6), household_no="HE4", relation="spouse")
    c.wages(lesser, f"{YEAR - 1}-01", 12, "3000.00")
    c.wages(more, f"{YEAR - 1}-01", 12, "9000.00")
    c.death(lesser, f"{YEAR}-03-01")
    # NEW_SEVERE_DISABILITY
    p = c.person("severe_new")
    c.certificate(p, "CN-1", 2, "physical", f"{YEAR}-03-01")
    p = c.person("severe_grade3_intellectual")
    c.certificate(p, "CN-2", 3, "intellectual", f"{YEAR}-04-01")
    p = c.person("severe_before")
    c.certificate(p, "CN-3", 2, "visual", "2020-01-01")
    c.certificate(p, "CN-4", 1, "visual", f"{YEAR}-05-01")
    p = c.person("grade3_physical")
    c.certificate(p, "CN-5", 3, "physical", f"{YEAR}-05-01")
    p = c.person("revoked")
    c.certificate(p, "CN-6", 2, "hearing", f"{YEAR}-05-01", status="revoked")
    # a person the 户籍 dataset does not know (yet): warned, unrouted
    p = c.person("no_hukou", hukou=False)
    c.accident(p, "AC-9", f"{YEAR}-10-10", "serious")
    return c


EXPECTED = {
    ("MED_RETURN", "med_return", ""),
    ("MED_RETURN", "both_rules", ""),
    ("MED_FALL", "med_fall", ""),
    ("TRAFFIC", "traffic", "AC-1"),
    ("TRAFFIC", "traffic_fatal", "AC-3"),
    ("TRAFFIC", "no_hukou", "AC-9"),
    ("DISASTER", "disaster", "IN-1"),
    ("EARNER_DEATH", "earner", ""),
    ("NEW_SEVERE_DISABILITY", "severe_new", "CN-1"),
    ("NEW_SEVERE_DISABILITY", "severe_grade3_intellectual", "CN-2"),
}


def found(city: City, warnings) -> set[tuple[str, str, str]]:
    labels = {p.key: label for label, p in city.people.items()}
    return {(w.rule, labels.get(w.person_key, "?"), w.event_ref) for w in warnings}
