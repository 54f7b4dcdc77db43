"""The series as a static site that works opened from disk: ``make site`` -> ``build/site``.

Every notebook is shown with the outputs stored in ``notebooks/`` (never re-executed: the site
shows exactly what ``make test`` compares against), in teaching order, with an index page, the
README's set-up and troubleshooting, and ``docs/*.md``.

Why Sphinx + myst-nb (+ sphinx-book-theme) and not Jupyter Book 2 / mystmd: mystmd downloads its
site template and cross-reference data from the web at build time and fails or hangs offline;
Sphinx builds from local files only, and every asset it needs is installed from PyPI into a venv of
its own (``.venv-site``, from ``requirements-site.txt``), so the series' own ``.venv`` stays lean.
MathJax (notebook 8's formula) comes from the npm registry (``npm pack``, pinned by version and
checksum, cached in ``build/site-cache``) and is served from the site's ``_static``: a page opened
from ``file://`` with the network off still renders it. Its SVG output is used because it needs no
web fonts (Chromium refuses ``file://`` fonts to a ``file://`` page).

The steps, each a function below so the tests can call them alone:

1. :func:`check_outputs` — before anything is installed or built: a notebook whose code cells were
   never run fails the build, named, with the command that stores its outputs.
2. :func:`ensure_venv` — ``.venv-site`` with the pinned site tooling (reinstalled only when
   ``requirements-site.txt`` changes).
3. :func:`stage` — a copy of the sources under ``build/site-src``: notebooks with their
   ``solution`` cells tagged with myst-nb's ``hide-cell`` (collapsed), a generated index, the
   README and the docs. ``notebooks/`` itself is never written.
4. :func:`ensure_mathjax`, then ``sphinx-build``, then :func:`external_assets`: any ``<script>``,
   ``<link>``, ``<img>`` or CSS ``url()`` that would load from the network fails the build.

This module uses the standard library only, so ``python3 -m helpers.site`` runs before any venv
exists; Sphinx runs as a subprocess in ``.venv-site``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DOCS_DIR = PROJECT_ROOT / "docs"
README = PROJECT_ROOT / "README.md"
SITE_CONF_DIR = PROJECT_ROOT / "site"
REQUIREMENTS = PROJECT_ROOT / "requirements-site.txt"
VENV = PROJECT_ROOT / ".venv-site"
BUILD_DIR = PROJECT_ROOT / "build"
STAGE_DIR = BUILD_DIR / "site-src"
SITE_DIR = BUILD_DIR / "site"
CACHE_DIR = BUILD_DIR / "site-cache"

SOLUTION_TAG = "solution"
HIDE_TAG = "hide-cell"
SOLUTION_PROMPT_SHOW = "Show the solution"
SOLUTION_PROMPT_HIDE = "Hide the solution"

MATHJAX_VERSION = "3.2.2"
MATHJAX_INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
"""The npm registry's integrity string for mathjax-3.2.2.tgz: the tarball is checked against it."""
MATHJAX_FILE = "tex-svg-full.js"
"""TeX input, SVG output, every TeX extension built in: one file, no fonts, no lazy loads."""


class SiteError(RuntimeError):
    """The site cannot be built; the message says why and what to do."""


# --------------------------------------------------------------------------- 1. outputs


def notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The series' notebooks in teaching order (their file names start with a number)."""
    return sorted(directory.glob("[0-9][0-9]_*.ipynb"))


def unexecuted_cells(notebook: dict) -> list[int]:
    """Numbers (1-based, as Jupyter counts cells) of non-empty code cells that were never run.

    ``execution_count`` is what tells: a cell that ran and printed nothing still has one, a
    cleared or newly added cell has ``None``.
    """
    return [
        number
        for number, cell in enumerate(notebook.get("cells", []), start=1)
        if cell.get("cell_type") == "code"
        and "".join(cell.get("source", "")).strip()
        and cell.get("execution_count") is None
    ]


def check_outputs(paths: list[Path]) -> None:
    """Fail, naming each notebook, when any code cell lacks stored outputs.

    The site shows the stored outputs and never runs a notebook (that would need R, the mock
    account and a minute per notebook, and the page could differ from what ``make test`` checks),
    so a notebook saved with its outputs cleared would publish as bare code.
    """
    if not paths:
        raise SiteError("No notebooks found (expected notebooks/NN_*.ipynb).")
    problems = []
    for path in paths:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            problems.append(f"  {path.name}: cannot be read as a notebook ({error})")
            continue
        missing = unexecuted_cells(notebook)
        code = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
        if missing and len(missing) == len([c for c in code if "".join(c["source"]).strip()]):
            problems.append(f"  {path.name}: has no stored outputs (none of its code cells ran)")
        elif missing:
            cells = ", ".join(str(n) for n in missing)
            problems.append(f"  {path.name}: cells {cells} have no stored outputs (never run)")
    if problems:
        raise SiteError(
            "The site shows each notebook's stored outputs and never runs a notebook, but:\n"
            + "\n".join(problems)
            + "\nRun `make notebooks` (re-executes every notebook in mock mode and stores the "
            "outputs), check the diff, then `make site` again."
        )


# --------------------------------------------------------------------------- 2. venv


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path = VENV, requirements: Path = REQUIREMENTS) -> Path:
    """``.venv-site`` with exactly ``requirements-site.txt``; reinstalled only when that changes.

    A venv of its own keeps Sphinx, its theme and the browser driver out of the series' ``.venv``
    (whose lock another workflow owns), and a copy of the requirements inside the venv records what
    it was built from.
    """
    stamp = venv / "requirements-site.txt"
    wanted = requirements.read_text(encoding="utf-8")
    if venv_python(venv).exists() and stamp.exists() and stamp.read_text() == wanted:
        return venv_python(venv)
    print(f"[site] installing the site tooling into {venv.name} (from {requirements.name})")
    if not venv_python(venv).exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False)
        if made.returncode != 0:
            raise SiteError(
                f"`{Path(sys.executable).name} -m venv {venv.name}` failed (above). On Debian, "
                "`apt-get install python3-venv` provides it."
            )
        # Not in git, and not linted: the venv says so itself.
        (venv / ".gitignore").write_text("*\n", encoding="utf-8")
    pip = [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", "-qq"]
    done = subprocess.run([*pip, "install", "-r", str(requirements)], check=False)
    if done.returncode != 0:
        raise SiteError(
            f"pip could not install {requirements.name} into {venv.name} (its output is above). "
            "The site tooling comes from PyPI; check that PyPI is reachable, or delete "
            f"{venv.name} and try again."
        )
    shutil.copyfile(requirements, stamp)
    return venv_python(venv)


# --------------------------------------------------------------------------- 3. staging


@dataclass
class NotebookSummary:
    """What the index says about one notebook, read from its first markdown cell."""

    docname: str
    title: str
    minutes: int | None
    overview: list[str]
    solutions: int


def _first_markdown(notebook: dict) -> str:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            return "".join(cell.get("source", ""))
    return ""


def summarize(path: Path, notebook: dict) -> NotebookSummary:
    """Title, time and overview items from the notebook's first markdown cell.

    Every notebook opens with a ``# N. Title`` heading, an ``## Overview`` list and a
    ``**Time to learn**: N minutes`` line (the Project Pythia cookbook layout); the index shows
    them so a reader sees the whole series, and its length, at a glance.
    """
    text = _first_markdown(notebook)
    title = re.search(r"^#\s+(.+)$", text, re.M)
    minutes = re.search(r"Time to learn\**:?\**\s*:?\s*(\d+)\s*min", text, re.I)
    overview = []
    section = re.search(r"^##\s+Overview\s*$(.*?)(?=^##\s|\Z)", text, re.M | re.S)
    if section:
        overview = [m.strip() for m in re.findall(r"^\s*\d+\.\s+(.+)$", section.group(1), re.M)]
    return NotebookSummary(
        docname=f"notebooks/{path.stem}",
        title=title.group(1).strip() if title else path.stem,
        minutes=int(minutes.group(1)) if minutes else None,
        overview=overview,
        solutions=sum(
            SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in notebook["cells"]
        ),
    )


def collapse_solutions(notebook: dict) -> dict:
    """A copy in which every ``solution`` cell carries myst-nb's ``hide-cell`` tag.

    myst-nb renders such a cell — code *and* output — inside one closed ``<details>`` whose
    summary is set per cell ("Show the solution"), so a reader tries the exercise before seeing
    the answer. ``hide-input`` would leave the output in view, and a solution's output (the call
    block of notebook 7's, "attached ServerlessPOC to ServerlessPOCNoS3") gives the answer away.
    """
    staged = copy.deepcopy(notebook)
    for cell in staged.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = metadata.get("tags", [])
        if cell.get("cell_type") == "code" and SOLUTION_TAG in tags:
            if HIDE_TAG not in tags:
                metadata["tags"] = [*tags, HIDE_TAG]
            metadata.setdefault("mystnb", {}).update(
                code_prompt_show=SOLUTION_PROMPT_SHOW, code_prompt_hide=SOLUTION_PROMPT_HIDE
            )
    return staged


def _readme_lead(readme: str) -> str:
    """The README's opening paragraphs (after its title, before its first section)."""
    body = re.sub(r"\A#\s+.*\n", "", readme)
    return body.split("\n## ", 1)[0].strip()


def _readme_sections(readme: str) -> str:
    """The README from its first ``##`` section on: set-up, modes, troubleshooting."""
    parts = readme.split("\n## ", 1)
    return "## " + parts[1] if len(parts) == 2 else readme


def _index(summaries: list[NotebookSummary], lead: str, docs: list[Path]) -> str:
    total = sum(s.minutes or 0 for s in summaries)
    rows = []
    for s in summaries:
        minutes = f"{s.minutes} min" if s.minutes else "—"
        overview = "; ".join(s.overview) if s.overview else ""
        rows.append(f"| [{s.title}]({s.docname}.ipynb) | {minutes} | {overview} |")
    toc_notebooks = "\n".join(s.docname for s in summaries)
    toc_docs = "\n".join(f"docs/{p.stem}" for p in docs)
    template = (SITE_CONF_DIR / "index.md").read_text(encoding="utf-8")
    return (
        template.replace("{{lead}}", lead)
        .replace("{{notebook_rows}}", "\n".join(rows))
        .replace("{{total_minutes}}", str(total))
        .replace("{{hours}}", f"{total / 60:.1f}".rstrip("0").rstrip("."))
        .replace("{{toc_notebooks}}", toc_notebooks)
        .replace("{{toc_docs}}", toc_docs)
    )


def stage(
    notebook_paths: list[Path],
    stage_dir: Path = STAGE_DIR,
    docs_dir: Path = DOCS_DIR,
    readme: Path = README,
) -> list[NotebookSummary]:
    """Write the site's sources to ``stage_dir`` (emptied first); return the index's summaries."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    (stage_dir / "notebooks").mkdir(parents=True)
    (stage_dir / "docs").mkdir()
    (stage_dir / "_static").mkdir()
    shutil.copyfile(SITE_CONF_DIR / "conf.py", stage_dir / "conf.py")
    for extra in sorted((SITE_CONF_DIR / "_static").glob("*")):
        shutil.copyfile(extra, stage_dir / "_static" / extra.name)

    summaries = []
    for path in notebook_paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        summaries.append(summarize(path, notebook))
        staged = collapse_solutions(notebook)
        (stage_dir / "notebooks" / path.name).write_text(
            json.dumps(staged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    docs = sorted(docs_dir.glob("*.md"))
    for doc in docs:
        shutil.copyfile(doc, stage_dir / "docs" / doc.name)

    text = readme.read_text(encoding="utf-8")
    (stage_dir / "setup.md").write_text(
        "# Set-up and troubleshooting\n\n"
        "*From the repository's README: how to run the series, its two modes, and what to do when "
        "R or rpy2 misbehave.*\n\n" + _readme_sections(text),
        encoding="utf-8",
    )
    (stage_dir / "index.md").write_text(
        _index(summaries, _readme_lead(text), docs), encoding="utf-8"
    )
    return summaries


# --------------------------------------------------------------------------- 4. MathJax, build


def _shown(path: Path) -> str:
    """A path as the reader typed it: relative to the repository when inside it."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def ensure_mathjax(static_dir: Path, cache_dir: Path = CACHE_DIR) -> Path:
    """MathJax 3's ``tex-svg-full.js`` (and its licence) in ``static_dir/mathjax``.

    The tarball comes from the npm registry with ``npm pack`` once, is checked against the pinned
    integrity and kept in ``build/site-cache``, so later builds need no network at all.
    """
    tarball = cache_dir / f"mathjax-{MATHJAX_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SiteError(
                "MathJax (for the formulas) comes from the npm registry, and `npm` is not "
                "installed: `apt-get install npm`, or put mathjax-"
                f"{MATHJAX_VERSION}.tgz (from `npm pack mathjax@{MATHJAX_VERSION}` on any "
                f"machine) into {_shown(cache_dir)}/."
            )
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"[site] fetching mathjax@{MATHJAX_VERSION} with npm pack (once; cached in build/)")
        done = subprocess.run(
            [npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--silent"],
            cwd=cache_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not tarball.exists():
            raise SiteError(
                f"`npm pack mathjax@{MATHJAX_VERSION}` failed: {done.stderr.strip()[-500:]}\n"
                "Is the npm registry reachable?"
            )
    data = tarball.read_bytes()
    if _integrity(data) != MATHJAX_INTEGRITY:
        tarball.unlink()
        raise SiteError(
            f"{tarball.name} does not match the pinned checksum (deleted it); run `make site` "
            "again to fetch it afresh."
        )
    target = static_dir / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for member, name in (
            (f"package/es5/{MATHJAX_FILE}", MATHJAX_FILE),
            ("package/LICENSE", "LICENSE"),
        ):
            source = archive.extractfile(member)
            if source is None:
                raise SiteError(f"{tarball.name} has no {member}")
            (target / name).write_bytes(source.read())
    return target / MATHJAX_FILE


_NETWORK_URL = r"(?:https?:)?//[^\s\"')>]+"
_LOADING = [
    re.compile(rf"<script\b[^>]*\bsrc=[\"']({_NETWORK_URL})", re.I),
    re.compile(rf"<link\b[^>]*\bhref=[\"']({_NETWORK_URL})", re.I),
    re.compile(rf"<(?:img|iframe|source|video|audio)\b[^>]*\bsrc=[\"']({_NETWORK_URL})", re.I),
    re.compile(rf"url\(\s*[\"']?({_NETWORK_URL})", re.I),
    re.compile(rf"@import\s+[\"']({_NETWORK_URL})", re.I),
]


def external_assets(site_dir: Path) -> list[str]:
    """``file: url`` for every asset a page would load from the network on its own.

    Links a reader may click (``<a href="https://…">``) are fine; scripts, stylesheets, images
    and fonts are not: opened from disk with the network off, they would not load.
    """
    found = []
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in {".html", ".css"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in _LOADING:
            for url in pattern.findall(text):
                found.append(f"{path.relative_to(site_dir)}: {url}")
    return found


def build(
    notebook_dir: Path = NOTEBOOKS_DIR, out: Path = SITE_DIR, stage_dir: Path = STAGE_DIR
) -> Path:
    """Check, install, stage and build; return the site's ``index.html``."""
    started = time.perf_counter()
    paths = notebooks(notebook_dir)
    check_outputs(paths)
    python = ensure_venv()
    summaries = stage(paths, stage_dir)
    ensure_mathjax(stage_dir / "_static")
    if out.exists():
        shutil.rmtree(out)
    print(f"[site] building {len(summaries)} notebooks + docs with Sphinx (stored outputs only)")
    done = subprocess.run(
        [str(python), "-m", "sphinx", "-b", "html", "-q", "-j", "auto", str(stage_dir), str(out)],
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode != 0:
        raise SiteError("sphinx-build failed (its messages are above).")
    remote = external_assets(out)
    if remote:
        listed = "\n".join(f"  {line}" for line in remote[:20])
        raise SiteError(
            "The built site would load these from the network, so it would not work offline:\n"
            f"{listed}\nServe each from _static (site/conf.py) instead."
        )
    index = out / "index.html"
    seconds = time.perf_counter() - started
    print(f"[site] done in {seconds:.0f} s: open {_shown(index)} in a browser")
    return index


# --------------------------------------------------------------------------- 5. browser test


def ensure_chromium() -> str:
    """Debian's ``chromium``, installed with apt when missing and we may (root, apt-get there).

    Playwright drives it through ``executable_path``: Playwright's own browser download comes from
    a CDN this series does not rely on.
    """
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise SiteError(
            "The site test needs Debian's chromium: `sudo apt-get install chromium` (as root, "
            "`make site-test` installs it itself)."
        )
    print("[site] installing Debian's chromium with apt-get (once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SiteError(f"apt-get could not install chromium:\n{done.stderr[-800:]}")
    return shutil.which("chromium") or "/usr/bin/chromium"


def no_network_prefix() -> list[str]:
    """``unshare -n`` where it works (root, or user namespaces): a network namespace with no
    interface up, so nothing the page tries can leave the machine; elsewhere nothing, and the
    test's own request log is the guard."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def browser_test(site_dir: Path = SITE_DIR) -> int:
    """Run tests/test_site.py in .venv-site against the built site, with the network off."""
    python = ensure_venv()
    ensure_chromium()
    if not (site_dir / "index.html").exists():
        raise SiteError(f"No site in {_shown(site_dir)}: run `make site` first.")
    prefix = no_network_prefix()
    print(
        "[site] browser test in a network namespace with no interface: nothing can leave"
        if prefix
        else "[site] browser test (unshare -n is not available here: the request log is the guard)"
    )
    command = [
        *prefix,
        str(python),
        "-m",
        "pytest",
        "tests/test_site.py",
        "--noconftest",  # tests/conftest.py needs the series' .venv (boto3); these tests do not
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
    ]
    return subprocess.run(command, cwd=PROJECT_ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.site", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "command",
        choices=["build", "check", "test"],
        help="build the site; check: stored outputs only; test: the site in headless Chromium",
    )
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, help="notebook folder")
    parser.add_argument("--out", type=Path, default=SITE_DIR, help="where the site goes")
    args = parser.parse_args(argv)
    args.notebooks, args.out = args.notebooks.resolve(), args.out.resolve()
    try:
        if args.command == "check":
            check_outputs(notebooks(args.notebooks))
            print(f"[site] every notebook in {args.notebooks} has its outputs stored")
        elif args.command == "test":
            return browser_test(args.out)
        else:
            build(args.notebooks, args.out)
    except SiteError as error:
        print(f"[site] {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
