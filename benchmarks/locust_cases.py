"""Locust users for `cases_load.py` (issue 12): portals submitting, caseworkers opening case
pages, residents reading their status — and a health probe as the same run's baseline.

Reads the fixture written by the benchmark's set-up (``DJZ_LOCUST_FIXTURE``) and writes every
response time, exactly, to ``DJZ_LOCUST_TIMINGS`` (one JSON line per request; requests in the
first ``DJZ_LOCUST_WARMUP`` seconds are marked as warm-up). Run by `cases_load.py`, not alone.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid

from locust import HttpUser, between, events, task

with open(os.environ["DJZ_LOCUST_FIXTURE"]) as _fh:
    FIXTURE = json.load(_fh)
WARMUP = float(os.environ.get("DJZ_LOCUST_WARMUP", "10"))
# line-buffered: locust ends its process without flushing open files
_out = open(os.environ["DJZ_LOCUST_TIMINGS"], "a", buffering=1)  # noqa: SIM115 (whole run)
_lock = threading.Lock()
_started = time.monotonic()
# Each household submits once: a run starts after those earlier runs used.
_pool = iter(FIXTURE["pool"][int(os.environ.get("DJZ_LOCUST_POOL_START", "0")) :])


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response, exception, **kw):
    ok = exception is None and response is not None and 200 <= response.status_code < 300
    row = {
        "name": name,
        "ms": response_time,
        "ok": ok,
        "warmup": time.monotonic() - _started < WARMUP,
    }
    if not ok:
        row["status"] = getattr(response, "status_code", None)
        text = getattr(response, "text", "") if response is not None else ""
        row["error"] = (text or str(exception))[:300]
    with _lock:
        _out.write(json.dumps(row, ensure_ascii=False) + "\n")


class IntakeUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.staff = random.choice(FIXTURE["staff"])
        self.resident = random.choice(FIXTURE["residents"])

    @task(2)
    def submit(self) -> None:
        household = next(_pool, None)
        if household is None:
            raise RuntimeError("the submission pool is used up: prepare a larger --pool")
        body = {
            "client_token": uuid.uuid4().hex,
            "id_number": household["id_number"],
            "programmes": ["linshi"],
            "authorisations": [
                {"id_number": n, "code": FIXTURE["code"]} for n in household["adults"]
            ],
            "commitment": True,
        }
        self.client.post(
            "/api/v1/cases/applications",
            json=body,
            headers={"Authorization": f"Bearer {FIXTURE['token']}"},
            name="submit",
        )

    def _page(self, path: str, session: str, name: str) -> None:
        self.client.get(
            path, headers={"Cookie": f"sessionid={session}"}, name=name, allow_redirects=False
        )

    @task(4)
    def case_page(self) -> None:
        case_id = random.choice(self.staff["cases"])
        self._page(f"/work/cases/{case_id}/", self.staff["session"], "case_page")

    @task(4)
    def status(self) -> None:
        no = self.resident["application_no"]
        self._page(f"/portal/applications/{no}/", self.resident["session"], "status")

    @task(1)
    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz")
