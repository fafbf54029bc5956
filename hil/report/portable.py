"""A report that survives being mailed: no absolute path of the lab PC in its text, and
every link relative to the report's folder, pointing inside it.

Links to files of a run outside the report's folder (``hil report core/output.xml
smart/output.xml -o report/``) point at copies the report takes along
(``run-files/run-1/log.html``), made when the report is written. Paths in the text (the
source file of a run, a lab config named in a lab error, a journal named in a failure)
are shown relative to the report's folder, or from their own folder's name.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hil.report.model import Report
from hil.report.sources import RunData

#: where the report keeps copies of the files its links point at
BUNDLE_DIR = "run-files"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _posix(relative: str) -> str:
    return relative.replace(os.sep, "/")


def make_portable(report: Report, runs: list[RunData], out_dir: Path) -> None:
    """Rewrite the report's links and path texts so that none is absolute or leaves the
    report's folder (see the module's doc)."""
    out = Path(out_dir).resolve()

    def shown_folder(folder: Path) -> str:
        if folder == out:
            return ""
        if _inside(folder, out):
            return _posix(os.path.relpath(folder, out)) + "/"
        return f"{folder.name}/"

    folders = {out: ""}
    for run in runs:
        for form in (run.folder.resolve(), run.folder.absolute()):
            folders.setdefault(form, shown_folder(run.folder.resolve()))
        lab_config = run.facts.get("lab_config")
        if lab_config:  # a lab error names the lab config: by its own name
            folders.setdefault(Path(str(lab_config)).resolve().parent, "")
    # longest first: a run folder inside the report's folder before the folder itself
    prefixes = sorted(folders.items(), key=lambda kv: len(str(kv[0])), reverse=True)

    def scrub(text: str) -> str:
        for folder, shown in prefixes:
            text = text.replace(str(folder) + os.sep, shown)
            if os.sep != "/":
                text = text.replace(folder.as_posix() + "/", shown)
        return text

    for run, info in zip(runs, report.runs, strict=True):
        source = run.source.resolve()
        info.source = shown_folder(source.parent) + source.name
        links = []
        for name, href in info.links:
            target = (out / href).resolve()
            if _inside(target, out):
                links.append((name, _posix(os.path.relpath(target, out))))
                continue
            if not target.is_file():  # nothing to take along: no link that would break
                continue
            try:
                within = target.relative_to(run.folder.resolve())
            except ValueError:
                within = Path(target.name)
            copy = f"{BUNDLE_DIR}/{info.label.replace(' ', '-')}/{within.as_posix()}"
            report.attachments.append((target, copy))
            links.append((name, copy))
        info.links = links
    for row in report.checklist + report.smart_charging + report.eichrecht:
        row.remarks = [scrub(r) for r in row.remarks]
        row.detail = scrub(row.detail)
    for failure in report.failures:
        failure.message = scrub(failure.message)
    for failed in report.lab_not_opened:
        failed.message = scrub(failed.message)


def copy_attachments(report: Report, out_dir: Path) -> None:
    """Copy the files the report's links point at into its folder (see make_portable)."""
    for source, relative in report.attachments:
        target = Path(out_dir) / relative
        if source.is_file() and source.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def shown_path(path: Path) -> str:
    """A file named in the report's text: its folder's name and its own, never the lab
    PC's absolute path (``plots/energy.png``)."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name
