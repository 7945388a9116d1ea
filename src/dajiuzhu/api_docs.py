"""Chinese summaries and descriptions of the API's operations (the API's users are the
departments' developers). An operation whose decorator already gives a Chinese ``summary``
keeps it; otherwise its entry here is used. A new operation needs one or the other
(``tests/test_api_schema.py`` checks)."""

from __future__ import annotations

import re

DESCRIPTION = (
    "常州市智慧大救助管理服务平台接口。工作人员使用登录会话(写操作须带 CSRF 令牌);"
    "部门系统使用 `Authorization: Bearer djz_…` 接口令牌。出错时返回 `{code, message, field}`:"
    "code 为稳定的英文错误代码,message 为中文说明。身份证号码只能放在请求体中,不能放在网址里。"
)

OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("get", "/api/v1/me"): ("当前用户", "当前登录用户或令牌对应部门的角色、管辖范围和所属部门。"),
    ("get", "/api/v1/divisions"): ("行政区划列表", "常州市的区、镇(街道)、村(社区)及网格。"),
    ("post", "/api/v1/divisions"): (
        "新建区划",
        "在镇(街道)或村(社区)下新建村(社区)或网格;仅市级系统管理员。",
    ),
    ("get", "/api/v1/departments"): ("部门列表", "参与数据共享和救助办理的部门。"),
    ("get", "/api/v1/tokens"): (
        "接口令牌列表",
        "各部门的接口令牌(不含令牌明文);仅市级系统管理员。",
    ),
    ("post", "/api/v1/tokens"): (
        "生成接口令牌",
        "为部门生成接口令牌,明文只返回这一次;仅市级系统管理员。",
    ),
    ("post", "/api/v1/tokens/{token_id}/revoke"): (
        "吊销接口令牌",
        "吊销后该令牌立即失效;仅市级系统管理员。",
    ),
    ("post", "/api/v1/persons"): ("登记人员", "在管辖范围内登记一名人员(身份证号码加密保存)。"),
    ("post", "/api/v1/persons/lookup"): (
        "按身份证号码查找人员",
        "身份证号码放在请求体中(不放在网址里);按用途记入审计日志。",
    ),
    ("get", "/api/v1/persons/{person_id}"): (
        "人员详情",
        "管辖范围内人员的基本信息(身份证号码按角色脱敏)。",
    ),
    ("post", "/api/v1/persons/{person_id}/categories"): (
        "登记困难类别",
        "为人员登记困难类别及起止日期。",
    ),
    ("get", "/api/v1/households"): (
        "查询家庭户",
        "按户号或成员姓名查询管辖范围内的家庭户;按身份证号码查询请用 POST /persons/lookup。",
    ),
    ("post", "/api/v1/households"): ("新建家庭户", "在管辖范围内新建家庭户。"),
    ("get", "/api/v1/households/{household_id}"): (
        "一户一档",
        "家庭户的成员、困难类别和变更记录;按用途记入审计日志。",
    ),
    ("post", "/api/v1/households/{household_id}/members"): (
        "登记家庭成员",
        "为家庭户登记成员及与户主关系。",
    ),
    ("get", "/api/v1/exchange/contracts"): (
        "数据共享目录",
        "各数据集的共享范围、使用场景、共享方式和更新周期。",
    ),
    ("post", "/api/v1/exchange/{dataset}/rows"): (
        "推送数据行",
        "数据所属部门推送不超过10,000行JSON数据;合格的行入库,不合格的行隔离并说明原因。",
    ),
    ("get", "/api/v1/exchange/{dataset}/rows"): (
        "读取共享数据",
        "按共享协议读取数据集:只返回协议允许该用途的字段,并记入审计日志。",
    ),
    ("post", "/api/v1/exchange/{dataset}/files"): (
        "上传数据文件",
        "上传CSV、XLSX或Parquet文件,排队后由后台处理;用返回的批次编号查询结果。",
    ),
    ("get", "/api/v1/exchange/batches/{batch_id}"): (
        "批次详情",
        "一个数据批次的状态、行数、隔离行数和质量指标。",
    ),
    ("get", "/api/v1/exchange/batches/{batch_id}/quarantine"): (
        "隔离数据",
        "被隔离的行及其原始值和原因;仅报送部门。",
    ),
    ("post", "/api/v1/exchange/batches/{batch_id}/retract"): (
        "撤回批次",
        "撤回一个已发布的批次(报送部门);撤回后其数据不再使用。",
    ),
    ("post", "/api/v1/exchange/{dataset}/rows/search"): (
        "按身份证号码读取共享数据",
        "同 GET /rows,身份证号码放在请求体中(不放在网址里)。",
    ),
    ("get", "/api/v1/policy/programmes"): (
        "救助政策库",
        "32项救助政策的目录:实施部门、对象、内容、依据、申请材料和办理时限。",
    ),
    ("get", "/api/v1/policy/programmes/{code}"): ("救助政策详情", "一项救助政策的详细信息。"),
    ("post", "/api/v1/policy/calculate"): (
        "政策计算器",
        "按家庭情况测算可能享受的救助、金额和理由;不保存任何数据。",
    ),
    ("get", "/api/v1/policy/candidates"): ("政策找人名单", "调用者所辖镇(街道)的政策找人对象。"),
    ("get", "/api/v1/policy/parameters"): (
        "新增的政策参数",
        "系统管理员在规则参数之上新增的按日期生效的取值。",
    ),
    ("post", "/api/v1/policy/parameters"): (
        "新增政策参数取值",
        "新增一个按日期生效的参数取值,立即生效并记入审计日志;仅系统管理员。",
    ),
    ("post", "/api/v1/verification/households/{household_id}/checks"): (
        "家庭经济状况核对",
        "按月核对家庭经济状况;所有成年成员须签有有效授权书。晚于最新数据或未到来的月份不予核对;数据缺失时,依赖缺失数据的条件标为无法判断。",
    ),
    ("get", "/api/v1/verification/reports/{report_id}"): (
        "核对报告",
        "一份核对报告及其逐条规则和数据来源;按用途记入审计日志。",
    ),
    ("post", "/api/v1/verification/persons/{person_id}/authorisations"): (
        "登记核对授权书",
        "登记家庭成员签署的经济状况核对授权书及有效期。",
    ),
    ("get", "/api/v1/warnings"): ("预警列表", "调用者管辖范围内的预警,及派发给调用者的预警。"),
    ("get", "/api/v1/warnings/stats"): (
        "预警统计",
        "管辖范围内按规则、镇(街道)和月份的预警数量(不含个人信息);不指定年度时为全部年度。",
    ),
    ("get", "/api/v1/warnings/{warning_id}"): ("预警详情", "一条预警的依据、家庭成员和现享救助。"),
    ("post", "/api/v1/warnings/{warning_id}/assign"): (
        "派发预警",
        "把预警派发给本镇(街道)的网格员或社区工作人员。",
    ),
    ("post", "/api/v1/warnings/{warning_id}/outcome"): (
        "登记核查结果",
        "上门核查的结果和情况说明(帮助申请的还须写明救助项目)。",
    ),
    ("post", "/api/v1/warnings/{warning_id}/close"): (
        "办结预警",
        "办结已核查的预警(镇街工作人员)。",
    ),
    ("get", "/api/v1/supervision/findings"): (
        "资金核查发现列表",
        "本辖区的资金核查发现(按支付地区分派;市级可见全部),可按月份、核查项和状态筛选。",
    ),
    ("get", "/api/v1/supervision/findings/{finding_id}"): (
        "资金核查发现详情",
        "一条发现的依据和整改记录;湖中明细只按“监督”用途开放的字段显示。按用途记入审计日志。",
    ),
    ("post", "/api/v1/supervision/findings/{finding_id}/rectify"): (
        "整改资金核查发现",
        "支付地区的整改:确认(追回并停发)、说明(附证据)或数据有误(退回数据所属部门)。",
    ),
    ("get", "/api/v1/supervision/samples"): (
        "抽查案例列表",
        "调用者可见的抽查案例:第三方评估机构只看到其合同内的样本。",
    ),
    ("get", "/api/v1/supervision/samples/{case_id}"): (
        "抽查案例详情",
        "一个抽查案例的评估和整改记录。",
    ),
    ("post", "/api/v1/supervision/samples/{case_id}/assess"): (
        "评估抽查案例",
        "评估机构按问题代码记录评估结果(无问题代码即为合格)。",
    ),
    ("post", "/api/v1/supervision/samples/{case_id}/rectify"): (
        "整改抽查问题",
        "镇(街道)对评估发现的问题进行整改。",
    ),
    ("get", "/api/v1/supervision/scorecard"): (
        "考核指标",
        "本辖区各区(或某区各镇街,level=town&parent=区代码)当月的考核指标:办理及时率、预警按期核查率和"
        "精准率、60秒/180秒接警率、抽查差错率、每千笔发放确认违规数(仅汇总数字)。",
    ),
    ("get", "/api/v1/supervision/complaints"): (
        "投诉举报列表",
        "本辖区(问题发生地所在区)的投诉举报,逾期上报市级的排在最前;不含举报人信息。记入审计日志。",
    ),
    ("get", "/api/v1/supervision/complaints/{complaint_id}"): (
        "投诉举报详情",
        "一件投诉举报的内容、期限、承办人、关联和办理结果;不含举报人信息。记入审计日志。",
    ),
    ("get", "/api/v1/supervision/complaints/{complaint_id}/reporter"): (
        "查看举报人信息",
        "举报人的姓名、电话或登录手机号,仅承办该举报的监督人员可以查看,每次查看记入审计日志。",
    ),
    ("post", "/api/v1/supervision/complaints/{complaint_id}/take"): (
        "承办投诉举报",
        "本区监督人员承办举报,此后由其办理并可查看举报人信息;逾期上报的举报可由市级接手。",
    ),
    ("post", "/api/v1/supervision/complaints/{complaint_id}/link"): (
        "关联投诉举报",
        "承办人把举报关联到本辖区的案件(编号)、家庭(户号)或资金核查问题(编号)。",
    ),
    ("post", "/api/v1/supervision/complaints/{complaint_id}/close"): (
        "办结投诉举报",
        "承办人填写办理结果后办结;举报人凭查询码可以看到办理状态和办理结果。",
    ),
    ("post", "/api/v1/care/events"): (
        "设备上报事件",
        "设备通过 HTTPS 上报事件(与 MQTT 消息相同的 JSON),使用设备令牌;拒收的消息按原因计数。",
    ),
    ("get", "/api/v1/care/alarms"): ("未关闭的报警", "本辖区未关闭的报警,最新的在前。"),
    ("post", "/api/v1/care/alarms/{alarm_id}/accept"): (
        "接警",
        "坐席接警;只有一名坐席能接到,其他人得到冲突提示。",
    ),
    ("post", "/api/v1/care/alarms/{alarm_id}/outcome"): (
        "记录处置结果",
        "记录回访和处置结果(误报、电话解决、派网格员上门、转110/120/119)。",
    ),
    ("post", "/api/v1/care/alarms/{alarm_id}/close"): ("关闭报警", "以关闭代码关闭报警。"),
    ("post", "/api/v1/cases/applications"): (
        "外部门户提交救助申请",
        "省政务服务网等外部门户以民政部门令牌提交申请(渠道记为 portal);"
        "同一 client_token 再次提交返回已建的申请(200),不会重复受理。",
    ),
    ("post", "/api/v1/cases/signing-codes"): (
        "发送授权签署验证码",
        "向家庭成年成员登记的手机发送授权书/承诺书签署验证码,申请人提交时一并传入。",
    ),
    ("get", "/api/v1/cases/applications/{application_no}"): (
        "查询申请办理进度",
        "申请的每个事项、每一步的办理期限和结果;提交该申请的令牌或管辖范围内的工作人员可查。",
    ),
    ("get", "/api/v1/reviews"): (
        "复核任务列表",
        "管辖范围内的复核任务(status:open 未办结、pending 待核对、checked 待审批确认、"
        "done 已办结、visit 待入户核查、all 全部),含核对结果和测算建议。",
    ),
    ("get", "/api/v1/reviews/{review_id}"): (
        "复核任务详情",
        "一项复核:应复核月份、周期依据、核对月份、测算建议(继续、调整、渐退、停发)及理由、入户核查。",
    ),
    ("post", "/api/v1/reviews/{review_id}/confirm"): (
        "确认复核结果",
        "审批人员确认复核结果(默认为测算建议;与建议不同须写明理由):调整和渐退自下月起执行,"
        "停发则发放至本月止并发送停发通知书和短信。须先完成要求的入户核查。",
    ),
}

_CJK = re.compile(r"[\u4e00-\u9fff]")


def document(schema: dict) -> dict:
    """Write the Chinese summaries and descriptions into the OpenAPI document."""
    schema.setdefault("info", {})["description"] = DESCRIPTION
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            entry = OPERATIONS.get((method, path))
            if entry is None:
                continue
            if not _CJK.search(op.get("summary") or ""):
                op["summary"] = entry[0]
            if not _CJK.search(op.get("description") or ""):
                op["description"] = entry[1]
    return schema
