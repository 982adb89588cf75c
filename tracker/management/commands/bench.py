"""`manage.py bench --sizes 10000,100000 [--json FILE] [--repeat K] [--works a,b] [--reuse]`
(issue #13).

Builds the generated ledger at each size on a PostgreSQL database whose name ends in
"_bench", times every figure as the project and as its floor (alternating, medians), as an
administrator, a city supervisor, a district supervisor and an officer, and prints one table.
The last generated ledger stays in the database; `--reuse` measures it again without
generating it anew when it has the size asked, `--works` runs only the works named. See
docs/performance.md.
"""

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tracker.bench.common import ensure_bench_database, machine_description, machine_line
from tracker.bench.run import WORK_NAMES, as_dicts, run_bench, table


class Command(BaseCommand):
    help = "在名称以 _bench 结尾的 PostgreSQL 库上生成台账，按角色比较各项功能与其下限的耗时"

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="10000", help="任务数，逗号分隔，如 10000,100000")
        parser.add_argument("--json", dest="json_file", help="把结果行另存为 JSON 文件")
        parser.add_argument("--repeat", type=int, default=5, help="每项计时次数（取中位数）")
        parser.add_argument("--seed", type=int, default=20260301)
        parser.add_argument("--works", default=",".join(WORK_NAMES),
                            help="只测这些项目，逗号分隔：" + ",".join(WORK_NAMES))
        parser.add_argument("--reuse", action="store_true",
                            help="库中已有同样数目的任务时沿用，不重新生成")

    def handle(self, *args, sizes, json_file, repeat, seed, works, reuse, **options):
        work_list = [w.strip() for w in works.split(",") if w.strip()]
        if not work_list or set(work_list) - set(WORK_NAMES):
            raise CommandError(f"--works 只能是 {','.join(WORK_NAMES)} 中的一项或几项，"
                               f"收到“{works}”")
        ensure_bench_database()
        try:
            size_list = [int(s) for s in sizes.split(",") if s.strip()]
        except ValueError:
            raise CommandError(f"--sizes 应为逗号分隔的正整数，收到“{sizes}”") from None
        if not size_list or min(size_list) < 100:
            raise CommandError("--sizes 中每个任务数至少为 100")
        if repeat < 1:
            raise CommandError("--repeat 至少为 1")

        call_command("migrate", verbosity=0)
        machine = machine_description()
        self.stdout.write(machine_line(machine))
        rows = run_bench(sizes=size_list, repeat=repeat, seed=seed, out=self.stdout,
                         works=work_list, reuse=reuse)
        self.stdout.write("")
        self.stdout.write(machine_line(machine_description()))
        self.stdout.write(table(rows))
        if json_file:
            with open(json_file, "w", encoding="utf-8") as f:
                json.dump(as_dicts(rows), f, ensure_ascii=False, indent=1)
