"""Throughput of reading + extracting report texts.

    python bench/bench_parsing.py [--repeat N] [--encoding utf-8|gb18030]
    python bench/bench_parsing.py --folder ../shared/corpus [--repeat N] [--rounds N]

Without --folder it reads a generated ~25,000-character report; with --folder every .txt file
in that folder (the seeds, the development corpus). Prints characters per second and
milliseconds per document; one document must take well under a second.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root

from reports.parsing import extract, read_document

TARGET_CHARACTERS = 25_000
CHINESE_ORDINALS = "一二三四五六七八九十"
SECTION_TEMPLATE = (
    "（{ordinal}）第{number}项重点工作推进情况。围绕巡视整改和日常监督，江屿市各单位逐项抓推进，"
    "开展专项检查{number}次，集中学习{number}次。市委第{ordinal}巡察组反馈问题{total}个，"
    "已完成整改{done}个，基本完成整改{basic}个，长期坚持1个，未完成整改{rest}个。"
    "组织各部门自查自纠问题{total}个，现已整改{done}个。共受理群众诉求{total}件，已办结{done}件。"
    "一是压实责任，层层传导压力。二是加强调度，按月通报进展。三是严格销号，确保整改到位。\n"
)
CLOSING = (
    "二、存在的问题\n一是整改标准不高。\n二是台账更新滞后。\n"
    "三、下步工作打算\n（一）紧盯剩余任务。\n（二）强化督办问责。\n"
)


def generated_report() -> str:
    parts = ["江屿市纪委监委2024年工作情况汇报\n", "一、工作开展情况\n"]
    number = 1
    while sum(map(len, parts)) < TARGET_CHARACTERS - len(CLOSING):
        total = 20 + number
        parts.append(
            SECTION_TEMPLATE.format(
                ordinal=CHINESE_ORDINALS[number % 10],
                number=number,
                total=total,
                done=total - 6,
                basic=3,
                rest=2,
            )
        )
        number += 1
    parts.append(CLOSING)
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--folder", type=Path, help="read every .txt file in this folder")
    parser.add_argument("--rounds", type=int, default=5, help="with --folder: best of N rounds")
    arguments = parser.parse_args()
    if arguments.folder:
        bench_folder(arguments.folder, arguments.repeat, arguments.rounds)
        return

    text = generated_report()
    data = text.encode(arguments.encoding)
    started = time.perf_counter()
    for _ in range(arguments.repeat):
        extraction = extract(read_document(data, "report.txt").text)
    elapsed = time.perf_counter() - started

    per_document = elapsed / arguments.repeat
    print(f"document: {len(text):,} characters, {len(data):,} bytes ({arguments.encoding})")
    print(f"figures per document: {len(extraction.figures)}")
    print(f"{len(text) * arguments.repeat / elapsed:,.0f} characters/second")
    print(f"{per_document * 1000:.1f} ms/document over {arguments.repeat} runs")


def bench_folder(folder: Path, repeat: int, rounds: int) -> None:
    """Best of `rounds` rounds of `repeat` passes over the folder: on a shared machine the best
    round is the one least disturbed by other work (timeit's advice)."""
    documents = [(path.name, path.read_bytes()) for path in sorted(folder.glob("*.txt"))]
    characters = sum(len(read_document(data, name).text) for name, data in documents)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for name, data in documents:
                extract(read_document(data, name).text)
        timings.append(time.perf_counter() - started)
    elapsed = min(timings)
    print(f"folder: {folder}, {len(documents)} files, {characters:,} characters")
    print(f"{characters * repeat / elapsed:,.0f} characters/second (best of {rounds} rounds)")
    print(f"{elapsed / (repeat * len(documents)) * 1000:.2f} ms/document over {repeat} runs")


if __name__ == "__main__":
    main()
