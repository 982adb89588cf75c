"""On the embedded defaults (`make run`) the web server and the worker are two processes: the
cache is files under var/cache, so a change one process records (the 巡视巡察 filter's
generation, tracker.selectors.inspection_choices_changed) is seen by the other."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _in_local_process(code: str, var_dir: Path) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "TRACKER_VAR_DIR": str(var_dir),
           "DATABASE_URL": f"sqlite:///{var_dir / 'unused.sqlite3'}"}
    script = ("import django; django.setup(); from django.core.cache import cache; "
              "from tracker import selectors; " + code)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_a_generation_changed_in_one_process_is_seen_by_another(tmp_path):
    read = "print(cache.get(selectors._choices_key('generation'))); "
    first = _in_local_process("selectors.inspection_choices_changed(); " + read, tmp_path)
    assert first not in ("", "None")
    seen, second = _in_local_process(
        read + "selectors.inspection_choices_changed(); " + read, tmp_path).splitlines()
    assert seen == first
    assert second not in ("None", first)
    assert (tmp_path / "cache").is_dir()
