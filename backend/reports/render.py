"""A monthly report as tables with Chinese headings, written as CSV (one file, a block per table)
or XLSX (a sheet per table). The printable PDF is in pdf.py and uses the same labels.

openpyxl (25 MB with numpy) and reportlab (17 MB) are imported when a file is written, not when
a worker starts: most workers never write one, and their idle size is what a long export adds to.
"""

import csv
import io
from dataclasses import dataclass

LABELS = {
    "region_id": "区域编号", "provider_id": "机构编号", "user_id": "人员编号", "name": "名称", "level": "层级",
    "role": "角色", "service_type": "服务类型代码", "date": "日期",
    "planned": "计划", "completed": "完成", "completed_on_time": "按时完成", "late_synced": "延迟同步",
    "missed": "漏访", "cancelled": "取消", "verified": "已核验", "verification_rate": "核验率",
    "satisfaction_rated": "评价数", "satisfaction_mean": "满意度均值", "satisfaction_low": "低分评价(≤2)",
    "satisfaction_low_share": "低分占比", "followups_opened": "新开跟进", "followups_resolved": "办结跟进",
    "followups_overdue": "逾期跟进", "in_scope_elders": "重点老人(独居/空巢/留守)",
    "in_scope_elders_visited": "本月已巡访", "patrol_coverage": "巡访覆盖率", "timed": "计时次数",
    "mean_duration_minutes": "平均时长(分钟)", "mean_min_duration_minutes": "平均最低时长(分钟)",
    "short_visits": "时长不足次数", "failed": "未达标项", "item": "项目", "value": "数值",
}
LEVEL_NAMES = {"district": "区/县", "street": "街道/乡镇", "community": "社区/村"}
ROLE_NAMES = {"caregiver": "护理员", "community_worker": "社区工作者", "supervisor": "监管人员", "admin": "管理员"}
FAILED_NAMES = {"satisfaction": "满意度", "verification": "核验率"}
RATES = {"verification_rate", "satisfaction_low_share", "patrol_coverage"}

_VISITS = ("planned", "completed", "completed_on_time", "late_synced", "missed", "cancelled", "verified",
           "verification_rate", "satisfaction_rated", "satisfaction_mean", "satisfaction_low",
           "satisfaction_low_share", "followups_opened", "followups_resolved", "followups_overdue")
REGION_COLUMNS = ("region_id", "name", "level", *_VISITS, "in_scope_elders", "in_scope_elders_visited",
                  "patrol_coverage")
PROVIDER_COLUMNS = ("provider_id", "name", *_VISITS)
SERVICE_TYPE_COLUMNS = ("service_type", "name", "completed", "timed", "mean_duration_minutes",
                        "mean_min_duration_minutes", "short_visits")
CAREGIVER_COLUMNS = ("user_id", "name", "role", "provider_id", "planned", "completed", "completed_on_time",
                     "late_synced", "missed", "verified", "verification_rate", "satisfaction_rated",
                     "satisfaction_mean", "satisfaction_low_share")
DAY_COLUMNS = ("date", "planned", "completed")
RECTIFICATION_COLUMNS = ("provider_id", "name", "failed", "completed", "verification_rate", "satisfaction_rated",
                         "satisfaction_mean")


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]  # keys; LABELS gives the heading
    rows: list[tuple]

    @property
    def headings(self) -> list[str]:
        return [LABELS.get(column, column) for column in self.columns]


def title_of(report: dict) -> str:
    year, month = report["month"].split("-")
    return f"{report['region']['name']} {year}年{int(month)}月 居家养老上门服务月报"


def tables(report: dict) -> list[Table]:
    """Every section of the report, in reading order."""
    total = {**report["total"], "name": f"合计（{report['total']['name']}）"}
    thresholds = report["thresholds"]
    summary = [("区域", report["region"]["name"]), ("层级", LEVEL_NAMES.get(report["region"]["level"], "")),
               ("月份", report["month"]), ("时区", report["period"]["time_zone"]),
               ("生成时间", report["generated_at"].isoformat()),
               ("满意度整改线", thresholds["min_satisfaction"]), ("核验率整改线", thresholds["min_verification"]),
               ("整改判定最少次数", thresholds["min_visits"]), ("巡访覆盖率目标", report["patrol_coverage_target"])]
    summary += [(LABELS[key], report["total"][key]) for key in REGION_COLUMNS[3:]]
    return [
        Table("汇总", ("item", "value"), summary),
        Table("分区域", REGION_COLUMNS, _rows(REGION_COLUMNS, [*report["regions"], total])),
        Table("服务机构", PROVIDER_COLUMNS, _rows(PROVIDER_COLUMNS, report["providers"])),
        Table("服务类型时长", SERVICE_TYPE_COLUMNS, _rows(SERVICE_TYPE_COLUMNS, report["service_types"])),
        Table("人员", CAREGIVER_COLUMNS, _rows(CAREGIVER_COLUMNS, report["caregivers"])),
        Table("每日完成", DAY_COLUMNS, _rows(DAY_COLUMNS, report["daily"])),
        Table("整改名单", RECTIFICATION_COLUMNS, _rows(RECTIFICATION_COLUMNS, report["rectification"])),
        Table("指标说明", ("item", "value"), list(report["definitions"].items())),
    ]


def _rows(columns: tuple[str, ...], records: list[dict]) -> list[tuple]:
    return [tuple(_cell(column, record.get(column)) for column in columns) for record in records]


def _cell(column: str, value):
    if column == "level":
        return LEVEL_NAMES.get(value, value)
    if column == "role":
        return ROLE_NAMES.get(value, value)
    if column == "failed":
        return "、".join(FAILED_NAMES.get(v, v) for v in value)
    return value


def to_csv(report: dict) -> bytes:
    """One CSV file: each table under a line naming it, tables apart by a blank line. UTF-8 with a
    byte-order mark, or Excel opens the Chinese as mojibake."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title_of(report)])
    for table in tables(report):
        writer.writerow([])
        writer.writerow([f"# {table.title}"])
        writer.writerow(table.headings)
        writer.writerows(["" if value is None else value for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: dict) -> bytes:
    """A workbook with a sheet per table; rates are formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables(report):
        sheet = book.create_sheet(table.title)
        sheet.append(table.headings)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append(list(row))
        for index, column in enumerate(table.columns, start=1):
            if column in RATES:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.0%"
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = \
                max(10, min(40, 2 * len(str(sheet.cell(1, index).value)) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(report: dict) -> bytes:
    """The printable report (pdf.py), loaded with reportlab on first use."""
    from backend.reports import pdf

    return pdf.to_pdf(report)
