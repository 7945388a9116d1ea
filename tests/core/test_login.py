import re

from django.test import Client

from dajiuzhu.core.models import OtpChallenge, User
from tests.factories.accounts import PASSWORD


def test_staff_log_in_with_a_password(tn_clerk):
    client = Client()
    response = client.post("/login/", {"username": "tn_clerk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/work/"
    page = client.get("/work/")
    assert page.status_code == 200
    assert "工作台" in page.content.decode()


def test_a_wrong_password_gets_a_chinese_message(tn_clerk):
    response = Client().post("/login/", {"username": "tn_clerk", "password": "wrong-one"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_five_failures_lock_the_account(tn_clerk):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "tn_clerk", "password": "wrong-one"})
    locked = client.post("/login/", {"username": "tn_clerk", "password": PASSWORD})
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_residents_log_in_with_a_one_time_code(db, sms_outbox, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/portal/login/", {"phone": "138 0000 0001", "action": "send"})
    assert page.status_code == 200
    assert len(sms_outbox) == 1
    code = re.search(r"(\d{6})", sms_outbox[0].text).group(1)
    wrong = client.post(
        "/portal/login/",
        {
            "phone": "13800000001",
            "action": "verify",
            "code": "000000" if code != "000000" else "111111",
        },
    )
    assert "验证码不正确" in wrong.content.decode()
    ok = client.post("/portal/login/", {"phone": "13800000001", "action": "verify", "code": code})
    assert ok.status_code == 302
    user = User.objects.get(role="resident")
    assert user.phone_index and b"13800000001" not in bytes(user.phone_enc)
    reused = Client().post(
        "/portal/login/", {"phone": "13800000001", "action": "verify", "code": code}
    )
    assert "验证码已失效" in reused.content.decode()


def test_one_time_codes_are_rate_limited_and_attempts_are_counted(
    db, sms_outbox, settings, django_capture_on_commit_callbacks
):
    client = Client()
    for _ in range(settings.OTP_MAX_SENDS_PER_HOUR):
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/portal/login/", {"phone": "13800000002", "action": "send"})
    limited = client.post("/portal/login/", {"phone": "13800000002", "action": "send"})
    assert "过于频繁" in limited.content.decode()
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        client.post("/portal/login/", {"phone": "13800000002", "action": "verify", "code": "x"})
    code = re.search(r"(\d{6})", sms_outbox[-1].text).group(1)
    locked = client.post(
        "/portal/login/", {"phone": "13800000002", "action": "verify", "code": code}
    )
    assert "错误次数过多" in locked.content.decode()


def test_one_session_cannot_have_codes_sent_to_many_phones(db, settings):
    client = Client()
    answers = [
        client.post("/portal/login/", {"phone": f"138000001{n:02d}", "action": "send"})
        for n in range(30)
    ]
    assert OtpChallenge.objects.count() == settings.OTP_MAX_SENDS_PER_SESSION == 5
    refused = answers[settings.OTP_MAX_SENDS_PER_SESSION].content.decode()
    assert "本设备获取验证码过于频繁(一小时内已向多个手机号发送),请一小时后再试" in refused


def test_one_address_cannot_have_codes_sent_to_many_phones(db, settings):
    settings.OTP_MAX_SENDS_PER_IP = 8
    for n in range(12):  # a fresh session (no cookie) each time, one address
        page = Client(REMOTE_ADDR="203.0.113.7").post(
            "/portal/login/", {"phone": f"138000002{n:02d}", "action": "send"}
        )
    assert OtpChallenge.objects.count() == 8
    assert "当前网络获取验证码过于频繁,请一小时后再试" in page.content.decode()
    other = Client(REMOTE_ADDR="203.0.113.8").post(
        "/portal/login/", {"phone": "13800000300", "action": "send"}
    )
    assert other.status_code == 200
    assert OtpChallenge.objects.count() == 9


def test_behind_a_proxy_the_configured_header_names_the_client(db, settings):
    settings.OTP_MAX_SENDS_PER_IP = 2
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    for n in range(3):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9").post(
            "/portal/login/", {"phone": f"138000004{n:02d}", "action": "send"}
        )
    # the entry the proxy added (the last) counts, not the first one the client may forge
    assert OtpChallenge.objects.count() == 2
    Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10").post(
        "/portal/login/", {"phone": "13800000499", "action": "send"}
    )
    assert OtpChallenge.objects.count() == 3


def test_a_bad_phone_number_gets_a_message(db):
    page = Client().post("/portal/login/", {"phone": "12345", "action": "send"})
    assert page.status_code == 200
    assert "手机号码格式不正确" in page.content.decode()


def test_forms_need_the_csrf_token(tn_clerk):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "tn_clerk", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_api_writes_with_a_session_need_the_csrf_token(tn_clerk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tn_clerk, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/api/v1/households",
        {"household_no": "X1", "division": "320402001"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "message": "CSRF check Failed"}


def test_api_writes_without_credentials_answer_401_not_a_csrf_failure(db):
    body = {"household_no": "X1", "division": "320402001"}
    unknown = "Bearer djz_00000000_not-a-real-secret"
    expected = {"code": "unauthenticated", "message": "请先登录或提供有效的部门令牌"}
    for client in (
        Client(enforce_csrf_checks=True),
        Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=unknown),
    ):
        for url, payload in (
            ("/api/v1/households", body),
            ("/api/v1/exchange/medical_claims/rows", {"rows": [{"claim_id": "C1"}]}),
            ("/api/v1/tokens", {"department": "gongan", "name": "x"}),
        ):
            response = client.post(url, payload, content_type="application/json")
            assert (response.status_code, response.json()) == (401, expected), url


def test_security_headers_and_cookies(tn_clerk, settings):
    response = Client().get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SECURE  # only the loopback demo turns this off
    assert settings.CSRF_COOKIE_SECURE
