"""The ``hil`` command: the virtual bench, lab preflight, the certification report, OCMF
verification."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hil.lab.config import LabConfigError, load_lab_config


def _cmd_sim(args: argparse.Namespace) -> int:
    from hil.sim.bench import CsmsUrlError, check_csms_url
    from hil.sim.bench import main as bench_main

    try:  # a URL no station can connect to: say so at once, not retry it forever
        check_csms_url(args.csms_url)
    except CsmsUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = load_lab_config(args.lab)
    if not cfg.is_virtual:
        print(
            f"{args.lab}: lab.bench is {cfg.lab.bench!r}; 'hil sim' runs only a virtual bench",
            file=sys.stderr,
        )
        return 2
    from pathlib import Path

    return bench_main(cfg, args.csms_url, Path(args.tls_dir) if args.tls_dir else None)


def _cmd_lab_check(args: argparse.Namespace) -> int:
    from hil.lab.preflight import (
        check_lab,
        operator_refusal,
        operator_text,
        render,
        station_url_text,
    )

    cfg = load_lab_config(args.lab)
    refusal = operator_refusal(cfg)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    print(station_url_text(cfg))
    if (operator := operator_text(cfg)) is not None:
        print(operator)
    results = check_lab(cfg)
    if not results:
        print(f"{args.lab}: no instruments configured")
        return 0
    print(render(results))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} instrument(s) OK")
    return 1 if failed else 0


def _cmd_lab_certs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hil.lab.certs import DEFAULT_HOSTS, LabCertsError, make_lab_certs, where_each_goes

    hosts = args.host or list(DEFAULT_HOSTS)
    try:
        files = make_lab_certs(Path(args.out), args.station_id, hosts, keep_ca=not args.force)
    except LabCertsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if files.ca_kept:
        print(f"kept the existing lab CA {files.ca} and its key (stations that trust it keep")
        print("working; --force makes a new one); new certificates issued from it:")
        print(f"back office certificate (SANs: {', '.join(hosts)}) and station client")
    else:
        print(f"lab CA, back office certificate (SANs: {', '.join(hosts)}) and station client")
    print(f"certificate (CN={args.station_id}) written; test certificates, not for production:")
    print(where_each_goes(files, args.station_id))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hil.report.build import report_from_outputs
    from hil.report.render import write_report
    from hil.report.sources import ReportInputError

    outputs = [Path(p) for p in args.outputs]
    out_dir = Path(args.output_dir) if args.output_dir else outputs[-1].parent
    try:
        remarks = Path(args.remarks) if args.remarks else None
        report = report_from_outputs(outputs, out_dir, args.tester, remarks)
    except ReportInputError as exc:  # a bad tester's file too: file, field and value
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in write_report(report, out_dir, formats=tuple(args.formats.split(","))):
        print(path)
    for warning in report.warnings:  # as the report says them, on its first page
        print(f"warning: {warning}", file=sys.stderr)
    if report.interrupted:
        print("note: an interrupted run; the report covers the steps that finished")
    return 0


def _cmd_nightly(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hil.nightly.run import rebuild_status, run_nightly

    if args.status:
        from rich.text import Text

        from hil.nightly.progress import describe

        for record in rebuild_status(Path(args.status)):
            line = Text.from_markup(describe(record)).plain
            print(f"{record['bench']}: {record['done']}/{record['total']} {line}")
        return 0
    if not args.benches:
        print("error: --benches DIR is required (or --status RESULTS)", file=sys.stderr)
        return 2
    return run_nightly(
        Path(args.benches),
        Path(args.output_dir) if args.output_dir else None,
        args.include,
        args.exclude,
        args.history,
        args.night,
        args.pabotlib or "",
        live=not args.no_live,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hil", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser(
        "sim",
        help="run the virtual bench (station and instruments)",
        description="Run the virtual bench until stdin closes (exit 0), Ctrl-C / SIGINT "
        "(exit 130) or SIGTERM (exit 143); a bad lab config or --csms-url exits 2.",
    )
    sim.add_argument("--lab", required=True, help="lab config YAML (lab.bench: virtual)")
    sim.add_argument(
        "--csms-url",
        required=True,
        help="back office URL without the station id, e.g. ws://127.0.0.1:9000 (ws:// or "
        "wss://, port 1-65535; anything else exits 2)",
    )
    sim.add_argument(
        "--tls-dir",
        help="the run's certificates made for back_office.security.certificate: auto "
        "(lab CA, station client certificate)",
    )
    sim.set_defaults(func=_cmd_sim)

    lab = sub.add_parser("lab", help="lab bench utilities")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    check = lab_sub.add_parser("check", help="reach every configured instrument; OK or why not")
    check.add_argument("--lab", required=True, help="lab config YAML")
    check.set_defaults(func=_cmd_lab_check)
    certs = lab_sub.add_parser(
        "certs",
        help="make a lab CA, a back office certificate and a station client certificate",
        description="Write a self-signed lab CA, a server certificate for the back office "
        "(security profiles 2, 3) and a client certificate for the station (profile 3) as "
        "PEM files, and say which file goes where. A folder that already holds a lab CA "
        "keeps it (stations already trust it): the new certificates are issued from it.",
    )
    certs.add_argument("--out", required=True, help="folder to write the PEM files to")
    certs.add_argument(
        "--station-id", default="VIRTUAL-CP-001", help="the station's id: its certificate's CN"
    )
    certs.add_argument(
        "--host",
        action="append",
        help="a host name or IP address the station uses to reach the back office (repeat; "
        "default: 127.0.0.1 and localhost)",
    )
    certs.add_argument(
        "--force",
        action="store_true",
        help="make a new lab CA even if the folder holds one (every station must then be "
        "given the new CA)",
    )
    certs.set_defaults(func=_cmd_lab_certs)

    report = sub.add_parser(
        "report",
        help="the certification report of one or more runs",
        description="Build the lab's certification report (HTML, Markdown, PDF) from Robot "
        "output files. Several files merge like rebot --merge: the latest verdict of a step "
        "wins and each row names its run. A missing or cut-off output.xml is rebuilt from "
        "the step records beside it (steps.jsonl) and marked interrupted.",
    )
    report.add_argument("outputs", nargs="+", metavar="OUTPUT.xml", help="Robot output file(s)")
    report.add_argument(
        "-o", "--output-dir", help="where to write the report (default: beside the last file)"
    )
    report.add_argument("--tester", help="who ran the tests (default: lab.tester of the run)")
    report.add_argument(
        "--remarks",
        metavar="FILE",
        help="the tester's remarks and verdict overrides (YAML; default: tester-remarks.yaml "
        "in the report's folder or the latest run's, if there is one); see docs/report.md",
    )
    report.add_argument(
        "--formats", default="html,md,pdf", help="comma-separated: html, md, pdf (default: all)"
    )
    report.set_defaults(func=_cmd_report)

    nightly = sub.add_parser(
        "nightly",
        help="the checklist on every bench of a folder at once (pabot), with a nightly report",
        description="Preflight every bench (a folder of lab configs), run the checklist on "
        "the good ones in parallel through pabot (one worker per bench, benches handed out "
        "by PabotLib value sets), show live progress, merge the results and write "
        "nightly-summary.html. Exit 1 when a step failed, a bench failed preflight or did "
        "not finish; 130 when stopped. See docs/nightly.md.",
    )
    nightly.add_argument("--benches", metavar="DIR", help="folder of lab config files")
    nightly.add_argument("--include", action="append", metavar="TAG", help="Robot --include")
    nightly.add_argument("--exclude", action="append", metavar="TAG", help="Robot --exclude")
    nightly.add_argument("-d", "--output-dir", help="results folder (default: results/<night id>)")
    nightly.add_argument(
        "--history", help="history database URL (default: sqlite:///<results>/history.sqlite)"
    )
    nightly.add_argument("--night", help="the night's id (default: today's UTC date)")
    nightly.add_argument(
        "--pabotlib",
        metavar="HOST:PORT",
        help="a PabotLib server already running on another host (default: pabot starts one)",
    )
    nightly.add_argument("--no-live", action="store_true", help="no live progress bars")
    nightly.add_argument(
        "--status",
        metavar="RESULTS",
        help="rebuild and print the status of a night (e.g. after it was killed) and exit",
    )
    nightly.set_defaults(func=_cmd_nightly)

    from hil.history.command import register as register_history

    register_history(sub)

    ocmf = sub.add_parser("ocmf", help="Eichrecht: signed meter readings (OCMF)")
    ocmf_sub = ocmf.add_subparsers(dest="ocmf_command", required=True)
    verify = ocmf_sub.add_parser(
        "verify", help="verify a record, a file of records or a saved OCPP journal"
    )
    from hil.verify.ocmf import cli as ocmf_cli

    ocmf_cli.add_arguments(verify)
    verify.set_defaults(func=ocmf_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a command's own handling: no traceback
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
