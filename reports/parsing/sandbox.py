"""Reading a report in a child process with a memory cap and a wall-clock limit.

The limits of ReadLimits are checked from what a file declares; what a file does not declare
(a PDF content stream that inflates to gigabytes, text that makes the readers work hard) is
bounded here: the file is read and extracted by `python -m reports.parsing.sandbox`, a child
process whose address space is capped with setrlimit(RLIMIT_AS) and which is killed after
`timeout` seconds. The worker that started it lives on whatever the file did.

The child gets the file and the limits as a pickle on stdin and answers with a pickle on its
own stdout (the libraries' own output goes to stderr). No Django here.
"""

import logging
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reports.parsing.extract import Extraction, extract
from reports.parsing.fingerprint import content_fingerprint
from reports.parsing.reading import DecodedDocument, DocumentError, ReadLimits, read_document

logger = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_EXIT_MEMORY = 3


@dataclass(frozen=True)
class ReadReport:
    """What reading a file gave: all the store needs."""

    document: DecodedDocument
    extraction: Extraction
    content_hash: str  # reports.parsing.fingerprint of the cleaned text


def read_report(data: bytes, filename: str, limits: ReadLimits) -> ReadReport:
    """Read and extract one file within the limits, in this process. Raises DocumentError."""
    document = read_document(data, filename, limits=limits)
    extraction = extract(document.text)
    return ReadReport(document, extraction, content_fingerprint(extraction.text))


def read_report_in_child(
    data: bytes, filename: str, limits: ReadLimits, *, memory_bytes: int, timeout: float
) -> ReadReport:
    """`read_report` in a child process capped at `memory_bytes` of address space and
    `timeout` seconds. Raises DocumentError, including for the caps themselves."""
    request = pickle.dumps((data, filename, limits, memory_bytes))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(_PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )}
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "reports.parsing.sandbox"], input=request,
            capture_output=True, timeout=timeout, env=env, cwd=_PROJECT_ROOT, check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise DocumentError(
            "parse_timeout",
            f"文件读取超过 {timeout:g} 秒仍未完成，已停止。文件可能过于复杂或已损坏，"
            "请另存为新文件或拆分后再上传。",
        ) from error
    if finished.returncode == _EXIT_MEMORY:
        raise DocumentError(
            "parse_memory",
            f"读取文件所需内存超过 {memory_bytes / (1024 * 1024):.0f} MB 的上限，已停止。"
            "文件可能含有异常庞大的内容，请另存为新文件或拆分后再上传。",
        )
    if finished.returncode != 0:
        # Not the file's fault as far as we know: the operator needs the child's traceback.
        logger.error("report reading child failed (exit %s): %s", finished.returncode,
                     finished.stderr.decode(errors="replace")[-4000:])
        raise DocumentError(
            "parse_failed", "读取文件时出现意外错误，已记录，请稍后重试或联系系统管理员。"
        )
    kind, *payload = pickle.loads(finished.stdout)
    if kind == "refused":
        raise DocumentError(*payload)
    (read,) = payload
    return read


def _child() -> int:
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever a library prints must not mix with the answer
    data, filename, limits, memory_bytes = pickle.loads(sys.stdin.buffer.read())
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        result = ("ok", read_report(data, filename, limits))
    except DocumentError as error:
        result = ("refused", error.code, error.message)
    except MemoryError:
        return _EXIT_MEMORY
    answer.write(pickle.dumps(result))
    answer.flush()
    return 0


if __name__ == "__main__":
    # Through the module's own name, so that what is pickled is reports.parsing.sandbox's
    # ReadReport (the parent cannot load a class of this "__main__").
    from reports.parsing.sandbox import _child as child

    sys.exit(child())
