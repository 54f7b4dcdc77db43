"""Benchmark: the CPU of a browser for notebook 10's page checks, headless shell against chromium.

``helpers.browser`` drives Debian's ``chromium-headless-shell`` where it is installed and
``chromium`` (``--headless``) otherwise. Each round starts one of them through Playwright, as
``helpers.browser`` does (same arguments), opens a local page in a new browser context per visit
(served on 127.0.0.1, it fetches a same-origin resource and writes it into the document), and closes it. The two
variants are interleaved in one run.

Printed: median CPU seconds per round for each (the process tree: Playwright's driver, the
browser and the renderers it waits for), the machine's CPU over the round (/proc/stat: every
process, so also helpers the browser does not wait for, and anything else running), wall seconds,
and the ratio of the process-tree CPU. Results also go to
benchmarks/results/bench_browser.json.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import browser  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_browser.json"
VARIANTS = {"headless shell": browser.HEADLESS_SHELL, "chromium": browser.DEFAULT_CHROMIUM}
PAGE = """<!doctype html><html><body><div id="out">waiting</div>
<script>fetch("data.txt").then(r => r.text()).then(t => {
  document.getElementById("out").textContent = t; })</script></body></html>"""

ONE_ROUND = """
import sys
from playwright.sync_api import sync_playwright
from helpers.browser import CHROMIUM_ARGUMENTS, VIEWPORT
executable, url, visits = sys.argv[1], sys.argv[2], int(sys.argv[3])
with sync_playwright() as playwright:
    chromium = playwright.chromium.launch(
        executable_path=executable, headless=True, args=list(CHROMIUM_ARGUMENTS)
    )
    for _ in range(visits):
        context = chromium.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function("document.getElementById('out').textContent === 'ok'")
        context.close()
    chromium.close()
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / 100


def one_round(executable: str, url: str, visits: int) -> tuple[float, float, float]:
    """(CPU s of the process tree, machine CPU s, wall s) of one start, the visits and close."""
    cpu, machine, wall = _children_cpu(), _machine_cpu(), time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", ONE_ROUND, executable, url, str(visits)], check=True, cwd=ROOT
    )
    return _children_cpu() - cpu, _machine_cpu() - machine, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--visits", type=int, default=4)
    options = parser.parse_args(argv)
    missing = [path for path in VARIANTS.values() if not Path(path).is_file()]
    if missing:
        print(
            f"skipped: not installed: {', '.join(missing)} (apt-get install chromium-headless-shell chromium)"
        )
        return 0
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "index.html").write_text(PAGE)
        (Path(folder) / "data.txt").write_text("ok")
        handler = functools.partial(_QuietHandler, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        for executable in VARIANTS.values():  # first start: files into the page cache
            one_round(executable, url, 1)
        cpu: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        machine: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        wall: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        for _ in range(options.rounds):
            for variant, executable in VARIANTS.items():
                spent, busy, took = one_round(executable, url, options.visits)
                cpu[variant].append(spent)
                machine[variant].append(busy)
                wall[variant].append(took)
        server.shutdown()
    medians = {variant: statistics.median(values) for variant, values in cpu.items()}
    ratio = medians["chromium"] / medians["headless shell"]
    for variant, values in cpu.items():
        shown = ", ".join(f"{value:.2f}" for value in values)
        print(
            f"{variant:>14}: median {medians[variant]:.2f} s of CPU, "
            f"machine {statistics.median(machine[variant]):.2f} s, "
            f"{statistics.median(wall[variant]):.2f} s wall per start + {options.visits} visits "
            f"({shown})"
        )
    print(f"ratio: chromium costs {ratio:.1f}x the headless shell ({options.rounds} rounds each)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "visits": options.visits,
                "cpu_s": cpu,
                "wall_s": wall,
                "median": medians,
                "ratio": ratio,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
