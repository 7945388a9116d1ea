"""Devices, the messages they send, alarms, care plans and visits.

An alarm's natural identity is (rule, spell): the spell names what one alarm is about — the
triggering event for immediate alarms and LOW_BATTERY, the start of the spell for INACTIVITY
and OFFLINE, the day for NO_MORNING_ACTIVITY. The database refuses a second alarm for the same
spell, so a re-run check or a redelivered message can never duplicate one.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dajiuzhu.core.models import User
from dajiuzhu.registry.models import Person


class DeviceKind(models.TextChoices):
    MOTION = "motion", "红外感应器"
    BUTTON = "button", "紧急按钮"
    PENDANT = "pendant", "便携式报警器"
    SMOKE = "smoke", "烟雾报警器"
    GAS = "gas", "燃气报警器"


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", "在用"
    REMOVED = "removed", "已拆除"


class EventType(models.TextChoices):
    MOTION = "motion", "活动感应"
    BUTTON = "button", "按键呼叫"
    FALL = "fall", "跌倒"
    SMOKE = "smoke", "烟雾"
    GAS = "gas", "燃气泄漏"
    HEARTBEAT = "heartbeat", "心跳"
    AWAY_ON = "away_on", "外出"
    AWAY_OFF = "away_off", "返回"
    TEST = "test", "测试"


class RejectReason(models.TextChoices):
    BAD_TOPIC = "bad_topic", "主题格式错误"
    UNKNOWN_DEVICE = "unknown_device", "未登记设备"
    REMOVED_DEVICE = "removed_device", "已拆除设备"
    OVERSIZED = "oversized", "消息超过 4 KiB"
    MALFORMED = "malformed", "JSON 格式错误"
    BAD_EVENT_ID = "bad_event_id", "缺少或无效的事件编号"
    UNKNOWN_TYPE = "unknown_type", "未知事件类型"
    BAD_TIME = "bad_time", "时间无法解析"
    FUTURE_TIME = "future_time", "时间超前 5 分钟以上"
    BAD_BATTERY = "bad_battery", "电量数值无效"
    BAD_LOCATION = "bad_location", "位置数据无效"


class Rule(models.TextChoices):
    BUTTON = "BUTTON", "紧急呼叫"
    FALL = "FALL", "跌倒报警"
    SMOKE = "SMOKE", "烟雾报警"
    GAS = "GAS", "燃气报警"
    INACTIVITY = "INACTIVITY", "长时间无活动"
    NO_MORNING_ACTIVITY = "NO_MORNING_ACTIVITY", "晨间无活动"
    OFFLINE = "OFFLINE", "设备离线"
    LOW_BATTERY = "LOW_BATTERY", "低电量"


# Technical alarms go to the engineers' maintenance list, not to the operators' console.
TECHNICAL_RULES = (Rule.OFFLINE, Rule.LOW_BATTERY)
IMMEDIATE_RULES: dict[str, str] = {
    EventType.BUTTON: Rule.BUTTON,
    EventType.FALL: Rule.FALL,
    EventType.SMOKE: Rule.SMOKE,
    EventType.GAS: Rule.GAS,
}


class AlarmStatus(models.TextChoices):
    RAISED = "raised", "待接警"
    ACCEPTED = "accepted", "处置中"
    CLOSED = "closed", "已关闭"


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", "误报"
    PHONE = "phone", "电话回访已解决"
    VISIT = "visit", "已派网格员上门"
    POLICE = "110", "已转110"
    AMBULANCE = "120", "已转120"
    FIRE = "119", "已转119"


class ClosureCode(models.TextChoices):
    SAFE = "safe", "对象安全"
    HELPED = "helped", "已现场处置"
    HOSPITAL = "hospital", "已送医"
    EMERGENCY = "emergency", "已由应急部门处置"
    FALSE_ALARM = "false_alarm", "误报/误触"
    DEVICE_FIXED = "device_fixed", "设备已维护"
    OTHER = "other", "其他"


class Device(models.Model):
    device_id = models.CharField("设备编号", max_length=64, unique=True)
    kind = models.CharField("设备类型", max_length=10, choices=DeviceKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="care_devices", verbose_name="监测对象"
    )
    # The person's division when the device was registered (scope of its alarms and pages).
    division_code = models.CharField("所在区划", max_length=15, db_index=True)
    installed_at = models.DateField("安装日期")
    status = models.CharField(
        "状态", max_length=8, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    # A keyed hash of the device's HTTPS token (empty: the device speaks MQTT only).
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    last_heard_at = models.DateTimeField("最近消息时间", null=True, blank=True)
    # The latest ``motion`` event's time (motion sensors): lets the check at T = now skip the
    # event table; a check of an earlier T, or a device without it, reads the events.
    last_motion_at = models.DateTimeField("最近活动时间", null=True, blank=True)
    last_battery = models.PositiveSmallIntegerField("最近电量", null=True, blank=True)
    battery_low = models.BooleanField("低电量", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "监测设备"
        ordering = ["device_id"]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return self.device_id


class DeviceEvent(models.Model):
    """An accepted message. (device, event_id) is unique: a redelivery finds it here."""

    # No index of their own: the unique (device, event_id) and the (person, type, at) index
    # lead with them. Every index is written by every one of the city's 2,000 messages/s.
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
    event_id = models.CharField("事件编号", max_length=100)
    type = models.CharField("类型", max_length=10, choices=EventType.choices)
    at = models.DateTimeField("设备时间")
    received_at = models.DateTimeField("接收时间")
    battery = models.PositiveSmallIntegerField("电量", null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    raw = models.TextField("原始消息")

    class Meta:
        verbose_name = "设备消息"
        constraints = [
            models.UniqueConstraint(fields=["device", "event_id"], name="care_event_once"),
        ]
        indexes = [
            models.Index(fields=["device", "at"]),
            models.Index(fields=["person", "type", "at"]),
            # The morning rule's windows across all people ("heard in the 15 min before 10:00").
            models.Index(fields=["at"], name="care_event_at"),
        ]


class Rejection(models.Model):
    """Per-reason counters of rejected messages, one row per reason and local day."""

    reason = models.CharField("原因", max_length=16, choices=RejectReason.choices)
    day = models.DateField("日期")
    count = models.PositiveIntegerField("次数", default=0)
    last_device = models.CharField("最近设备编号", max_length=64, blank=True)
    last_at = models.DateTimeField("最近时间", null=True, blank=True)

    class Meta:
        verbose_name = "拒收计数"
        constraints = [
            models.UniqueConstraint(fields=["reason", "day"], name="care_rejection_per_day"),
        ]


class AwaySpell(models.Model):
    """A person is away (外出) from ``start`` until ``end`` (None: still away)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField("外出时间")
    end = models.DateTimeField("返回时间", null=True, blank=True)
    set_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        verbose_name = "外出"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(end__isnull=True), name="care_one_open_away"
            ),
        ]
        indexes = [models.Index(fields=["person", "start"])]


class Alarm(models.Model):
    overdue: bool = False  # not stored: set for display by the console (selectors.overdue)

    rule = models.CharField("报警类型", max_length=20, choices=Rule.choices)
    spell = models.CharField("报警时段", max_length=120)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="care_alarms")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT)
    event = models.ForeignKey(DeviceEvent, null=True, blank=True, on_delete=models.SET_NULL)
    event_ref = models.CharField("触发事件", max_length=100, blank=True)
    division_code = models.CharField("所在区划", max_length=15, db_index=True)
    technical = models.BooleanField("技术报警", default=False)
    raised_at = models.DateTimeField("报警时间")
    created_at = models.DateTimeField("入库时间", auto_now_add=True)
    status = models.CharField(
        "状态", max_length=10, choices=AlarmStatus.choices, default=AlarmStatus.RAISED
    )
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField("接警时间", null=True, blank=True)
    escalated = models.BooleanField("已升级", default=False)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    callback_note = models.TextField("回访记录", blank=True)
    outcome = models.CharField("处置结果", max_length=12, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField("处置时间", null=True, blank=True)
    closure_code = models.CharField(
        "关闭代码", max_length=12, choices=ClosureCode.choices, blank=True
    )
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)

    class Meta:
        verbose_name = "报警"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "spell"], name="care_alarm_once_per_spell"),
            models.CheckConstraint(
                condition=Q(accepted_by__isnull=True) | Q(accepted_at__isnull=False),
                name="care_accepted_alarm_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(closure_code=""),
                name="care_closed_alarm_has_code",
            ),
        ]
        indexes = [
            models.Index(fields=["technical", "status"]),
            models.Index(fields=["raised_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule}#{self.pk}"


class MorningDecision(models.Model):
    """NO_MORNING_ACTIVITY of a local day was decided by the check at ``at`` (the first at or
    after that day's deadline): later checks do not read that morning again."""

    day = models.DateField("日期", unique=True)
    at = models.DateTimeField("判定时的检查时间")

    class Meta:
        verbose_name = "晨间无活动判定"


class EscalationReason(models.TextChoices):
    SUPERVISOR = "supervisor", "值班主管"
    SECOND_GROUP = "second_group", "第二坐席组"


class Escalation(models.Model):
    """To whom an alarm nobody accepted in time was escalated (recorded by the worker)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="escalations")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("升级对象", max_length=12, choices=EscalationReason.choices)
    created_at = models.DateTimeField("升级时间")

    class Meta:
        verbose_name = "报警升级"
        constraints = [
            models.UniqueConstraint(fields=["alarm", "user"], name="care_escalation_once"),
        ]


class Plan(models.Model):
    """One version of a person's care plan (一策). A change writes a new version."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="care_plans")
    version = models.PositiveIntegerField("版本")
    division_code = models.CharField("所在区划", max_length=15, db_index=True)
    services = models.JSONField("服务项目", default=list)
    visit_schedule = models.CharField("走访频次", max_length=200, blank=True)
    visit_every_days = models.PositiveSmallIntegerField("上门走访间隔(天)", null=True, blank=True)
    grid_worker = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Contact people (name, relation, phone) — encrypted: they are other people's data.
    contacts_enc = models.BinaryField(null=True, blank=True, editable=False)
    review_date = models.DateField("复核日期")
    inactivity_hours = models.PositiveSmallIntegerField(
        "个人无活动报警小时数", null=True, blank=True
    )
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "关爱计划"
        ordering = ["person", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="care_plan_version"),
        ]


class VisitStatus(models.TextChoices):
    OPEN = "open", "待上门"
    DONE = "done", "已上门"


class Visit(models.Model):
    """A visit on the grid worker's phone: scheduled by the plan, or dispatched for an alarm."""

    overdue: bool = False  # not stored: set for display by the visit list

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("所在区划", max_length=15, db_index=True)
    alarm = models.ForeignKey(
        Alarm, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    assignee = models.ForeignKey(User, on_delete=models.PROTECT, related_name="care_visits")
    due_date = models.DateField("应上门日期")
    dispatched_at = models.DateTimeField("派发时间")
    status = models.CharField(
        "状态", max_length=6, choices=VisitStatus.choices, default=VisitStatus.OPEN
    )
    arrived_at = models.DateTimeField("到达时间", null=True, blank=True)
    findings = models.TextField("现场情况", blank=True)

    class Meta:
        verbose_name = "上门走访"
        ordering = ["status", "due_date", "id"]
        indexes = [models.Index(fields=["assignee", "status"])]
