"""The figures behind the instructor guide's agenda (run on demand; docs/instructor-guide.md).

For every notebook, from the notebook itself:

- the words a learner reads: markdown prose and code, counted separately (URLs, HTML tags and
  Markdown punctuation removed; code counted as identifiers and numbers), and the reading time at
  a published silent-reading rate (:data:`READING_RATE_WPM`, :data:`READING_RATE_SOURCE`);
- the cells a learner runs (code cells, solutions excluded: learner copies have none), the
  exercise ("Your turn") and the "Mock mode differs" boxes;
- the notebook's own "Time to learn".

With ``--run``, also the machine time: each notebook executed headless in mock mode, each in a
fresh kernel (``helpers.series.run_notebook``, as ``make series`` does; executed copies go to a
scratch folder, ``notebooks/`` is never written), with the wall time of every cell from nbclient's
timing metadata. Without ``--run`` the machine times of the previous results file are kept.

    .venv/bin/python benchmarks/measure_agenda.py          # text figures (a second)
    .venv/bin/python benchmarks/measure_agenda.py --run    # + machine time (about 90 s)
    make agenda                                            # = the second

Results: benchmarks/results/agenda.json (and a table on stdout).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

RESULTS = ROOT / "benchmarks" / "results" / "agenda.json"
SETUP_RESULTS = ROOT / "benchmarks" / "results" / "bench_setup.json"

READING_RATE_WPM = 238
READING_RATE_SOURCE = (
    "Brysbaert, M. (2019). How many words do we read per minute? A review and meta-analysis of "
    "reading rate. Journal of Memory and Language 109, 104047, doi:10.1016/j.jml.2019.104047: "
    "silent reading of English non-fiction by adults, 238 words per minute on average"
)
CODE_RATE_NOTE = (
    "Code is counted as identifiers and numbers and read at the same rate: a lower bound, since "
    "code is read more slowly than prose."
)

_URL = re.compile(r"\]\([^)]*\)|https?://\S+")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’_.-]*")
_CODE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?")
_TIME_TO_LEARN = re.compile(r"\*\*Time to learn\*\*:\s*(\d+)\s*minutes", re.IGNORECASE)


def prose_words(markdown: str) -> int:
    """Words of a markdown cell: link targets, bare URLs and HTML tags removed."""
    text = _TAG.sub(" ", _URL.sub("]", markdown))
    return len(_WORD.findall(text))


def code_words(source: str) -> int:
    """Identifiers and numbers of a code cell (comments included: they are read too)."""
    return len(_CODE_WORD.findall(source))


def output_words(cell) -> int:
    """Words of a code cell's stored text outputs (tables and prints the learner looks at)."""
    total = 0
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            total += len(_WORD.findall("".join(output.get("text", ""))))
        elif output.get("output_type") in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
            total += len(_WORD.findall("".join(text)))
    return total


def measure_text(path: Path) -> dict:
    """What a learner reads and runs in one notebook, from its cells."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    markdown = [cell for cell in cells if cell.cell_type == "markdown"]
    code = [cell for cell in cells if cell.cell_type == "code"]
    solutions = [cell for cell in code if "solution" in cell.metadata.get("tags", [])]
    title = markdown[0].source.splitlines()[0].lstrip("# ").strip() if markdown else path.stem
    stated = _TIME_TO_LEARN.search(markdown[0].source) if markdown else None
    exercise = next(
        (
            cell.source.splitlines()[0].lstrip("# ").strip()
            for cell in markdown
            if "Your turn" in cell.source.splitlines()[0]
        ),
        None,
    )
    check = next(
        (
            match.group(0)
            for cell in code
            if "exercise-check" in cell.metadata.get("tags", [])
            and (match := re.search(r"exercises\.check_\w+", cell.source))
        ),
        None,
    )
    prose = sum(prose_words(cell.source) for cell in markdown)
    learner_code = [cell for cell in code if cell not in solutions]
    code_count = sum(code_words(cell.source) for cell in learner_code)
    return {
        "notebook": path.stem,
        "title": title,
        "stated_minutes": int(stated.group(1)) if stated else None,
        "markdown_cells": len(markdown),
        "code_cells_to_run": len(learner_code),
        "solution_cells": len(solutions),
        "exercise": exercise,
        "exercise_check": check,
        "mock_mode_differs_boxes": sum("Mock mode differs" in cell.source for cell in markdown),
        "prose_words": prose,
        "code_words": code_count,
        "output_words": sum(output_words(cell) for cell in learner_code),
        "reading_minutes": round((prose + code_count) / READING_RATE_WPM, 1),
    }


def _cell_seconds(cell) -> float | None:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def measure_machine(paths: list[Path]) -> dict[str, dict]:
    """Each notebook executed headless in mock mode in a fresh kernel: total and slowest cells."""
    import nbformat

    from helpers.series import run_notebook

    os.environ["SERIES_MODE"] = "mock"
    os.environ.pop("SERIES_MOCK_ACCOUNT", None)  # never a Lab's shared account
    found = {}
    with tempfile.TemporaryDirectory(prefix="agenda-") as scratch:
        for path in paths:
            run = run_notebook(path, store_to=Path(scratch))
            executed = nbformat.read(Path(scratch) / path.name, as_version=4)
            timed = [
                (index, seconds)
                for index, cell in enumerate(executed.cells)
                if cell.cell_type == "code" and (seconds := _cell_seconds(cell)) is not None
            ]
            slowest = sorted(timed, key=lambda item: -item[1])[:3]
            found[path.stem] = {
                "status": run.status,
                "machine_seconds": round(run.seconds, 1),
                "cells_seconds": round(sum(seconds for _, seconds in timed), 1),
                "slowest_cells": [
                    {"cell": index, "seconds": round(seconds, 1)} for index, seconds in slowest
                ],
                "error": run.error,
            }
            print(f"  {run.status:<7} {run.seconds:6.1f} s  {path.name}", flush=True)
    return found


def _machine() -> dict:
    def r_version() -> str:
        try:
            done = subprocess.run(
                ["Rscript", "--vanilla", "-e", "cat(as.character(getRversion()))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            return done.stdout.strip() or "unknown"
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    from helpers.mock.awslambda.container import engine_problem

    return {
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "r": r_version(),
        "platform": platform.platform(),
        "docker_engine": engine_problem() or "answers",
    }


PARTICIPANTS = (10, 30, 100)
IMAGE_GB = 0.5  # helpers.costs' default image size (the built image is about 0.4 GB uncompressed)
WORKSHOP_DAYS_KEPT = 1.0  # each participant's resources: created and deleted the same day
SHARED_IMAGE_DAYS_KEPT = 7.0  # the instructor's image: pushed a week before, deleted after

# Notebooks 9 and 10 in a live account, per participant. Counted from the notebooks' cells and
# rounded up, not measured on AWS: notebook 9 makes about 25 calls to the API in a mock run,
# notebook 10 nine browser visits (a preflight and a GET each) and two calls; live, a call that
# waits for a new key, permission or deployment to apply repeats every 3 s (helpers.api.calling
# .call_until), so allow several times that. The website: the page and config.js per visit,
# three fetches, and publish's wait for the new website (every 3 s, up to a minute).
API_REQUESTS_PER_PARTICIPANT = 200
WEBSITE_GETS_PER_PARTICIPANT = 100
SITE_PUT_REQUESTS_PER_PARTICIPANT = 20  # the two uploads and the bucket's configuration calls
SITE_KB = 20  # web/index.html and config.js, rounded up
# Amazon S3 pricing (https://aws.amazon.com/s3/pricing/), S3 Standard, us-east-1, checked late
# 2026; website endpoint requests are billed as GET requests. Re-check before teaching.
S3_GET_PRICE_PER_THOUSAND = 0.0004
S3_PUT_PRICE_PER_THOUSAND = 0.005
S3_PRICING_SOURCE = "https://aws.amazon.com/s3/pricing/"


def api_and_site_cost(days_kept: float = WORKSHOP_DAYS_KEPT) -> dict:
    """Notebooks 9 and 10 for one participant, live (USD): REST API requests at
    ``helpers.costs.REST_API_PRICE_PER_MILLION`` (no free tier assumed: API Gateway's million
    free calls a month are a 12-month offer of older accounts; accounts created since 15 July
    2025 get credits instead), the site's S3 requests and storage. API keys, usage plans and stages cost nothing; data transfer out (a few MB) stays
    within the 100 GB a month AWS does not charge for."""
    from helpers import costs

    api = API_REQUESTS_PER_PARTICIPANT / 1_000_000 * costs.REST_API_PRICE_PER_MILLION
    gets = WEBSITE_GETS_PER_PARTICIPANT / 1_000 * S3_GET_PRICE_PER_THOUSAND
    puts = SITE_PUT_REQUESTS_PER_PARTICIPANT / 1_000 * S3_PUT_PRICE_PER_THOUSAND
    storage = SITE_KB / 1_000_000 * costs.S3_PRICE_PER_GB_MONTH * days_kept / 30
    return {
        "rest_api_requests": API_REQUESTS_PER_PARTICIPANT,
        "rest_api_usd": round(api, 6),
        "website_get_requests": WEBSITE_GETS_PER_PARTICIPANT,
        "site_put_requests": SITE_PUT_REQUESTS_PER_PARTICIPANT,
        "site_requests_usd": round(gets + puts, 6),
        "site_storage_usd": round(storage, 9),
        "total_usd": round(api + gets + puts + storage, 6),
        "sources": [*costs.FRONT_DOOR_SOURCES[:1], S3_PRICING_SOURCE],
    }


def workshop_cost(counts: tuple[int, ...] = PARTICIPANTS) -> dict:
    """Live cost for N participants (USD): ``helpers.costs.series_live_estimate`` (notebooks
    1-8: Lambda, ECR, S3) plus :func:`api_and_site_cost` (notebooks 9 and 10).

    Two routes: every participant pushes an image of their own (Docker on every laptop), or the
    instructor pushes one for everybody (``SERIES_IMAGE_URI``): then a participant stores no image
    and the shared image is stored once.
    """
    from helpers import costs

    def total(table) -> float:
        return float(table["USD"].iloc[-1])

    front = api_and_site_cost()
    own = total(costs.series_live_estimate(image_gb=IMAGE_GB, days_kept=WORKSHOP_DAYS_KEPT))
    without_image = total(costs.series_live_estimate(image_gb=0.0, days_kept=WORKSHOP_DAYS_KEPT))
    own, without_image = own + front["total_usd"], without_image + front["total_usd"]
    shared_once = total(
        costs.series_live_estimate(image_gb=IMAGE_GB, days_kept=SHARED_IMAGE_DAYS_KEPT)
    ) - total(costs.series_live_estimate(image_gb=0.0, days_kept=SHARED_IMAGE_DAYS_KEPT))
    lambda_gb_s = costs.SERIES_INVOCATIONS * costs.SERIES_SECONDS_PER_INVOCATION * 512 / 1024
    return {
        "source": (
            "helpers.costs.series_live_estimate (prices: AWS Lambda, ECR and S3 pricing pages) "
            "+ api_and_site_cost (API Gateway and S3 pricing pages)"
        ),
        "image_gb": IMAGE_GB,
        "per_participant_own_image_usd": round(own, 6),
        "per_participant_shared_image_usd": round(without_image, 6),
        "api_and_site_per_participant": front,
        "shared_image_once_usd": round(shared_once, 4),
        "shared_image_days_kept": SHARED_IMAGE_DAYS_KEPT,
        "lambda_per_participant": {
            "requests": costs.SERIES_INVOCATIONS,
            "gb_seconds_at_512_mb": lambda_gb_s,
            "free_requests_per_account_month": costs.FREE_REQUESTS_PER_MONTH,
            "free_gb_seconds_per_account_month": costs.FREE_GB_SECONDS_PER_MONTH,
        },
        "rows": [
            {
                "participants": n,
                "own_images_usd": round(n * own, 4),
                "shared_image_usd": round(n * without_image + shared_once, 4),
                "api_and_site_usd": round(n * front["total_usd"], 4),
                "rest_api_requests": n * front["rest_api_requests"],
                "lambda_requests": n * costs.SERIES_INVOCATIONS,
                "lambda_gb_seconds_at_512_mb": n * lambda_gb_s,
            }
            for n in counts
        ],
    }


def cost_table(cost: dict) -> str:
    lines = [
        f"{'participants':>12} {'own images $':>13} {'shared image $':>15} "
        f"{'of which API+site $':>20} {'API requests':>13} "
        f"{'Lambda requests':>16} {'GB-s at 512 MB':>15}"
    ]
    for row in cost["rows"]:
        lines.append(
            f"{row['participants']:>12} {row['own_images_usd']:>13.4f} "
            f"{row['shared_image_usd']:>15.4f} {row['api_and_site_usd']:>20.4f} "
            f"{row['rest_api_requests']:>13,} {row['lambda_requests']:>16,} "
            f"{row['lambda_gb_seconds_at_512_mb']:>15,.0f}"
        )
    front = cost["api_and_site_per_participant"]
    lines.append(
        f"per participant: {cost['per_participant_own_image_usd']:.4f} $ with an own image "
        f"({cost['image_gb']} GB, 1 day), {cost['per_participant_shared_image_usd']:.4f} $ "
        f"without; of which the API and the site {front['total_usd']:.5f} $ "
        f"({front['rest_api_requests']} REST API requests {front['rest_api_usd']:.5f} $, "
        f"{front['website_get_requests']} website GETs and {front['site_put_requests']} PUTs "
        f"{front['site_requests_usd']:.5f} $); the shared image {cost['shared_image_once_usd']:.4f} $ "
        f"once ({cost['shared_image_days_kept']:g} days). Lambda: within one account's free "
        f"{cost['lambda_per_participant']['free_requests_per_account_month']:,} requests and "
        f"{cost['lambda_per_participant']['free_gb_seconds_per_account_month']:,} GB-s a month."
    )
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    head = (
        f"{'notebook':<22} {'stated':>6} {'read':>5} {'words':>6} {'cells':>5} "
        f"{'machine s':>9}  exercise"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        machine = row.get("machine_seconds")
        lines.append(
            f"{row['notebook']:<22} {row['stated_minutes'] or '-':>6} "
            f"{row['reading_minutes']:>5.1f} {row['prose_words'] + row['code_words']:>6} "
            f"{row['code_cells_to_run']:>5} {machine if machine is not None else '-':>9}  "
            f"{row['exercise'] or '-'}"
        )
    total_read = sum(row["reading_minutes"] for row in rows)
    total_stated = sum(row["stated_minutes"] or 0 for row in rows)
    machines = [row.get("machine_seconds") for row in rows]
    total_machine = sum(m for m in machines if m is not None) if any(machines) else None
    lines.append("-" * len(head))
    lines.append(
        f"{'total':<22} {total_stated:>6} {total_read:>5.1f} "
        f"{sum(r['prose_words'] + r['code_words'] for r in rows):>6} "
        f"{sum(r['code_cells_to_run'] for r in rows):>5} "
        f"{round(total_machine, 1) if total_machine is not None else '-':>9}"
    )
    lines.append(
        "stated = the notebook's Time to learn (min); read = (prose + code words) / "
        f"{READING_RATE_WPM} wpm (min); machine = headless mock-mode run, fresh kernel (s)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", action="store_true", help="also execute every notebook (mock mode, ~90 s)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from helpers.series import notebooks

    paths = notebooks()
    rows = [measure_text(path) for path in paths]
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    machine_meta = previous.get("machine_run")
    if args.run:
        print(f"Executing {len(paths)} notebooks headless in mock mode (fresh kernel each)")
        machine = measure_machine(paths)
        machine_meta = {
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": _machine(),
        }
    else:
        machine = {row["notebook"]: row for row in previous.get("notebooks", [])}
    for row in rows:
        found = machine.get(row["notebook"], {})
        for key in ("status", "machine_seconds", "cells_seconds", "slowest_cells", "error"):
            if key in found:
                row[key] = found[key]
    setup = json.loads(SETUP_RESULTS.read_text()) if SETUP_RESULTS.exists() else None
    result = {
        "text_measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reading_rate_wpm": READING_RATE_WPM,
        "reading_rate_source": READING_RATE_SOURCE,
        "code_rate_note": CODE_RATE_NOTE,
        "machine_run": machine_meta,
        "setup_results": (
            {"file": str(SETUP_RESULTS.relative_to(ROOT)), "figures": setup}
            if setup is not None
            else f"{SETUP_RESULTS.relative_to(ROOT)} not present (benchmarks/bench_setup.py)"
        ),
        "notebooks": rows,
        "workshop_cost": workshop_cost(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(rows))
    print()
    print(cost_table(result["workshop_cost"]))
    print(
        f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    )
    failed = [row["notebook"] for row in rows if row.get("status") == "failed"]
    if failed:
        print(f"failed notebooks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
