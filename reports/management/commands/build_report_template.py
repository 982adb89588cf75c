from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from reports.web.monthly_template import save_template

SHIPPED = Path(settings.BASE_DIR) / "reports" / "templates" / "reports" / "monthly_report.docx"


class Command(BaseCommand):
    help = (
        "生成月度整改进展报告的默认 Word 模板（A4，GB/T 9704 页边距和页码）。"
        "各单位可在 Word 中修改副本，并用 REPORTS_MONTHLY_TEMPLATE 指向它。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=SHIPPED,
                            help="保存位置（默认为随项目提供的模板）")

    def handle(self, *args, output: Path, **options):
        save_template(output)
        self.stdout.write(f"已生成模板：{output}")
