from django.db import DatabaseError
from django.test import Client


def test_home_page_is_chinese_and_titled(db):
    page = Client().get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>" in html and "常州市智慧大救助管理服务平台</title>" in html
    assert 'lang="zh-Hans"' in html


def test_healthz_answers_200_with_the_database(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_the_database(db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr("dajiuzhu.web.views.connection", Unreachable())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_portal_is_mobile_first(db):
    page = Client().get("/portal/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="viewport"' in html
    assert "居民服务" in html


def test_workbench_needs_log_in(db):
    response = Client().get("/work/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_unknown_pages_are_chinese_404s(db):
    response = Client().get("/no/such/page")
    assert response.status_code == 404
    assert "未找到" in response.content.decode()


def test_openapi_and_docs_are_served(db):
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"].startswith("常州市智慧大救助")
    assert client.get("/api/v1/docs").status_code == 200
