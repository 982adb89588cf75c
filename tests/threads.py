"""Running service calls in threads for the PostgreSQL concurrency tests."""

import threading

from django.db import connections


def start_in_thread(target, results: dict, key, barrier: threading.Barrier | None = None):
    """Run `target` in a thread with its own database connection; its return value or the
    exception it raised lands in results[key] for the test to assert on (never swallowed)."""

    def run():
        try:
            if barrier:
                barrier.wait(10)
            results[key] = target()
        except BaseException as error:
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
