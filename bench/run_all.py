"""Run every benchmark in turn (``make bench``); each also runs alone."""

from __future__ import annotations

import subprocess
import sys

RUNS = [
    ["bench.api_throughput"],
    ["bench.session_check"],
    ["bench.search", "--engine", "sqlite", "--rows", "100000"],
    ["bench.search", "--engine", "postgres", "--rows", "1000000"],
    ["bench.notices", "--engine", "sqlite"],
    ["bench.notices", "--engine", "postgres"],
    ["bench.topic_page", "--engine", "sqlite"],
    ["bench.topic_page", "--engine", "postgres"],
    ["bench.big_topic", "--engine", "sqlite"],
    ["bench.big_topic", "--engine", "postgres"],
    ["bench.documents"],
    ["bench.webhooks"],
    ["bench.account_import", "--engine", "sqlite"],
    ["bench.account_import", "--engine", "postgres"],
    ["bench.county_view", "--engine", "sqlite"],
    ["bench.county_view", "--engine", "postgres"],
    ["bench.statistics", "--engine", "sqlite"],
    ["bench.statistics", "--engine", "postgres"],
    ["bench.open_data", "--engine", "sqlite"],
    ["bench.open_data", "--engine", "postgres"],
    ["bench.archive", "--engine", "sqlite"],
    ["bench.archive", "--engine", "postgres"],
    ["bench.sign_in_load"],
]


def main() -> int:
    for run in RUNS:
        print(f"== python -m {' '.join(run)}", flush=True)
        code = subprocess.call([sys.executable, "-m", *run])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
