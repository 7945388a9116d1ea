"""Resident ID numbers (GB 11643-1999) and phone numbers: validation and masking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dajiuzhu.core.clock import local_today
from dajiuzhu.core.errors import UserError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(UserError, ValueError):
    """Carries a stable code for the API and a Chinese message for pages."""

    field = "id_number"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidPhone(UserError, ValueError):
    field = "phone"
    code = "phone.format"
    message = "手机号码格式不正确,应为11位中国大陆手机号"


@dataclass(frozen=True)
class IdNumber:
    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str) -> str:
    return raw.strip().upper()


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    number = normalise_id_number(raw or "")
    if not _ID_RE.match(number):
        raise InvalidIdNumber(
            "id_number.format", "身份证号码应为18位:前17位为数字,最后一位为数字或X"
        )
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("id_number.checksum", "身份证号码校验位不正确,请核对后重新输入")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "id_number.birth_date", "身份证号码中的出生日期不存在,请核对"
        ) from None
    today = today or local_today()
    if birth > today or birth.year < 1890:
        raise InvalidIdNumber("id_number.birth_date", "身份证号码中的出生日期不合理,请核对")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def make_id_number(region_code: str, birth: date, sequence: int) -> str:
    """Build a valid ID number (for synthetic data and tests). sequence: 0..999."""
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask_id_number(number: str) -> str:
    if len(number) != 18:
        return "*" * len(number)
    return f"{number[:4]}{'*' * 10}{number[14:]}"


def normalise_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE_RE.match(phone):
        raise InvalidPhone(InvalidPhone.message)
    return phone


def mask_phone(phone: str) -> str:
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[7:]}"


# Fourteen digits in a row (ignoring spaces and hyphens) are an ID number or most of one: the
# 15-digit (1984) and 18-character numbers, and partial numbers long enough to identify.
_ID_LIKE_RE = re.compile(r"\d{14,}")
_ID_LIKE_STRIP = str.maketrans("", "", " \t-\u3000")


def looks_like_id_number(value: str) -> bool:
    """Whether a value (a URL query value, say) holds an ID number or a long part of one."""
    return bool(_ID_LIKE_RE.search((value or "").translate(_ID_LIKE_STRIP)))
