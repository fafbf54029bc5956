"""``hil ocmf verify``: check OCMF records, record files and OCPP journals.

The ``hil`` command owns the parser; it calls :func:`add_arguments` on its
``ocmf verify`` sub-parser and :func:`run` with the parsed namespace. Exit status: 0
when everything verified (remarks allowed), 1 when any record or session failed,
2 when the input or the key could not be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from hil.verify.ocmf.journal import JournalScan, JournalSession, scan_journal
from hil.verify.ocmf.keys import KeyFormatError, MeterKey, load_public_key
from hil.verify.ocmf.model import OcmfRecord
from hil.verify.ocmf.reader import parse_record
from hil.verify.ocmf.session import verify_session
from hil.verify.ocmf.signature import SignatureStatus, SignatureVerdict, verify_signature
from hil.verify.ocmf.transport import extract_ocmf

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ocmf verify`` arguments to ``parser``."""
    parser.add_argument(
        "source",
        help="an OCMF record (plain, hex, or a JSON signed meter value), a file of records "
        "(one per line, or a JSON list), or a saved OCPP journal (JSON lines); '-' = stdin",
    )
    parser.add_argument(
        "--key",
        help="meter public key (hex/base64 SPKI, PEM, bare point, oca:base16:asn1:...) or a "
        "file holding one; default: the key the journal or the signed value carries",
    )
    parser.add_argument(
        "--session", action="store_true", help="check the given records as one session"
    )
    parser.add_argument("--id-tag", help="the id tag the session was started with")
    parser.add_argument("--meter-start", type=int, help="OCPP meterStart in Wh")
    parser.add_argument("--meter-stop", type=int, help="OCPP meterStop in Wh")
    parser.add_argument("--reference-wh", type=_decimal_arg, help="reference meter energy in Wh")
    parser.add_argument("--tolerance-percent", type=_decimal_arg, default=Decimal("1"))
    parser.add_argument("--tolerance-wh", type=_decimal_arg, default=Decimal("2"))
    parser.add_argument(
        "--current-type",
        choices=("AC", "DC"),
        help="the station's current type: every reading's RT must say it",
    )
    parser.add_argument("--transaction", help="journal: only this transactionId")
    parser.add_argument("--station", help="journal: only this station")


def _decimal_arg(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


@dataclass
class _Item:
    """One record found in the input, with the key its transport carried."""

    label: str
    text: str | None
    error: str | None = None
    transport_key: str | None = None


_DEFAULTS = {
    "key": None,
    "session": False,
    "id_tag": None,
    "meter_start": None,
    "meter_stop": None,
    "reference_wh": None,
    "tolerance_percent": Decimal("1"),
    "tolerance_wh": Decimal("2"),
    "current_type": None,
    "transaction": None,
    "station": None,
}


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``hil ocmf verify``; prints the verdicts and returns the exit status.

    ``args`` needs only ``source``; any option it lacks takes its default.
    """
    out = out or sys.stdout
    args = argparse.Namespace(**{**_DEFAULTS, **vars(args)})
    try:
        text, inline = _read_source(args.source)
    except OSError as exc:
        print(f"error: cannot read {args.source}: {exc}", file=out)
        return EXIT_UNREADABLE
    key: MeterKey | None = None
    if args.key:
        try:
            key = _load_key(args.key)
        except (OSError, KeyFormatError) as exc:
            print(f"error: --key: {exc}", file=out)
            return EXIT_UNREADABLE
    if _is_journal(text):
        return _run_journal(args, scan_journal(text.splitlines()), key, out)
    items = _items(text)
    if not items or (inline and len(items) == 1 and items[0].text is None):
        reason = f" ({items[0].error})" if items else ""
        print(f"error: {args.source!r} is neither a file nor an OCMF record{reason}", file=out)
        return EXIT_UNREADABLE
    return _run_records(args, items, key, out)


def _read_source(source: str) -> tuple[str, bool]:
    """The text to check, and whether it was given inline (not a file or stdin)."""
    if source == "-":
        return sys.stdin.read(), False
    if "|" not in source and _is_file(source):
        return Path(source).read_text(encoding="utf-8"), False
    return source, True


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # e.g. a long record is not a valid file name
        return False


def _load_key(value: str) -> MeterKey:
    if _is_file(value):
        value = Path(value).read_text(encoding="utf-8")
    return load_public_key(value)


def _is_journal(text: str) -> bool:
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            first = json.loads(line)
        except ValueError:
            return False
        return isinstance(first, dict) and ("raw" in first or "dir" in first)
    return False


def _items(text: str) -> list[_Item]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except ValueError:
            values = None
        if isinstance(values, list):
            return [_item(f"record {i + 1}", v) for i, v in enumerate(values)]
    if stripped.startswith("{") and "\n" not in stripped:
        return [_item("record 1", stripped)]
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return [_item(f"record {i + 1}", ln) for i, ln in enumerate(lines)]


def _item(label: str, value: object) -> _Item:
    if isinstance(value, dict):
        value = value.get("record", json.dumps(value))
    if not isinstance(value, str):
        return _Item(label, None, f"not text: {type(value).__name__}")
    if value.startswith("OCMF"):
        return _Item(label, value)
    found = extract_ocmf(value)
    if not found.ok:
        return _Item(label, None, found.error)
    return _Item(f"{label} ({found.transport})", found.text, transport_key=found.public_key)


def _run_records(
    args: argparse.Namespace, items: list[_Item], key: MeterKey | None, out: TextIO
) -> int:
    failed = False
    records: list[OcmfRecord] = []
    for item in items:
        if item.text is None:
            print(f"{item.label}: FAIL - {item.error}", file=out)
            failed = True
            continue
        result = parse_record(item.text)
        if result.record is None:
            print(f"{item.label}: FAIL - not readable: {result.error}", file=out)
            failed = True
            continue
        record = result.record
        records.append(record)
        record_key, source = _record_key(key, item, record)
        verdict = verify_signature(record, record_key)
        print(describe_record(item.label, record, verdict, source), file=out)
        failed |= verdict.status is not SignatureStatus.VALID
    if args.session:
        session_key = key or next((i.transport_key for i in items if i.transport_key), None)
        verdict = verify_session(
            records,
            session_key,
            id_tag=args.id_tag,
            meter_start_wh=args.meter_start,
            meter_stop_wh=args.meter_stop,
            reference_wh=args.reference_wh,
            tolerance_percent=args.tolerance_percent,
            tolerance_wh=args.tolerance_wh,
            current_type=args.current_type,
            title=f"OCMF session ({len(records)} record(s))",
        )
        print(verdict.render(), file=out)
        failed |= not verdict.passed
    return EXIT_FAILED if failed else EXIT_OK


def _record_key(
    key: MeterKey | None, item: _Item, record: OcmfRecord
) -> tuple[MeterKey | str | None, str]:
    if key is not None:
        return key, "--key"
    if item.transport_key:
        return item.transport_key, "publicKey of the signed meter value"
    if record.public_key_section:
        return record.public_key_section, "the record's (withdrawn) fourth section"
    return None, "none given"


def describe_record(
    label: str, record: OcmfRecord, verdict: SignatureVerdict, key_source: str
) -> str:
    """A few readable lines about one record and its signature."""
    lines = [
        f"{label}: {'PASS' if verdict.valid else 'FAIL'} - PG={record.pagination} "
        f"MS={record.meter_serial} ID={record.id_data!r}"
    ]
    for r in record.readings:
        lines.append(
            f"  reading {r.index}: TX={r.transaction} {r.value_text} {r.unit} RI={r.obis} "
            f"ST={r.status} EF={r.error_flags!r} TM={r.time_text}"
        )
    lines.append(f"  signature: {verdict.status.value} - {verdict.detail} (key: {key_source})")
    deviations = record.deviations + verdict.deviations
    if deviations:
        lines.append("  deviations: " + "; ".join(str(d) for d in deviations))
    return "\n".join(lines)


def _run_journal(
    args: argparse.Namespace, scan: JournalScan, key: MeterKey | None, out: TextIO
) -> int:
    failed = False
    for problem in scan.skipped:
        print(f"warning: {problem}", file=out)
    sessions = [
        s
        for s in scan.sessions
        if (args.transaction is None or str(s.transaction_id) == str(args.transaction))
        and (args.station is None or s.station == args.station)
    ]
    signed_sessions = [s for s in sessions if s.signed_values]
    if not signed_sessions:
        print("error: the journal holds no transaction with signed meter values", file=out)
        return EXIT_UNREADABLE
    reference = args.reference_wh if len(signed_sessions) == 1 else None
    if args.reference_wh is not None and reference is None:
        print("note: --reference-wh ignored: more than one session (use --transaction)", file=out)
    for session in signed_sessions:
        failed |= _check_journal_session(args, scan, session, key, reference, out)
    return EXIT_FAILED if failed else EXIT_OK


def _check_journal_session(
    args: argparse.Namespace,
    scan: JournalScan,
    session: JournalSession,
    key: MeterKey | None,
    reference: Decimal | None,
    out: TextIO,
) -> bool:
    if key is not None:
        session_key: MeterKey | str | None = key
        source = "--key"
    else:
        session_key, source = scan.key_for(session)
    print(f"== {session.label} (key: {source})", file=out)
    failed = False
    texts: list[str] = []
    for n, value in enumerate(session.signed_values, 1):
        label = f"{value.source} {value.context} #{n}"
        if value.extracted.text is None:
            print(f"{label}: FAIL - {value.extracted.error}", file=out)
            failed = True
            continue
        texts.append(value.extracted.text)
        result = parse_record(value.extracted.text)
        if result.record is None:
            print(f"{label}: FAIL - not readable: {result.error}", file=out)
            failed = True
            continue
        verdict = verify_signature(result.record, session_key)
        print(describe_record(label, result.record, verdict, source), file=out)
    verdict = verify_session(
        texts,
        session_key,
        id_tag=args.id_tag or session.id_tag,
        meter_start_wh=args.meter_start if args.meter_start is not None else session.meter_start_wh,
        meter_stop_wh=args.meter_stop if args.meter_stop is not None else session.meter_stop_wh,
        reference_wh=reference,
        tolerance_percent=args.tolerance_percent,
        tolerance_wh=args.tolerance_wh,
        current_type=args.current_type,
        title=f"OCMF session: {session.label}",
    )
    print(verdict.render(), file=out)
    return failed or not verdict.passed


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m hil.verify.ocmf.cli``)."""
    parser = argparse.ArgumentParser(prog="hil ocmf verify", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
