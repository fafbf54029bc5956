"""The nightly report page from fake bench folders."""

from __future__ import annotations

import re
from pathlib import Path

from hil.nightly.summary import any_failure, write_summary
from tests.nightly.fakes import bench, bench_folder


def test_summary_table_and_a_checklist_per_bench(tmp_path: Path) -> None:
    a, b = bench(tmp_path, "Bench A"), bench(tmp_path, "Bench B")
    bad = bench(tmp_path, "Bench C", ["ev_simulator (hil-evsim at 127.0.0.1:1): refused"])
    pr = tmp_path / "pabot_results"
    fa = bench_folder(pr, 1, a, [("1", "PASS"), ("5", "PASS"), ("23", "FAIL")], ended=True)
    fb = bench_folder(pr, 2, b, [("1", "PASS")], current="5")
    (fa / "certification-report.html").write_text("<html></html>")
    folders = {"Bench A": fa, "Bench B": fb}
    states = {"Bench A": "finished", "Bench B": "interrupted", "Bench C": "preflight-failed"}
    page, summaries = write_summary(tmp_path, "2026-11-30", [a, b, bad], folders, states)
    html = page.read_text()
    assert page.name == "nightly-summary.html"
    top = html.split("</table>")[0]
    assert top.count("<tr>") == 4  # header + three benches
    sa, sb, sc = summaries
    assert sa.counts["Y"] == 2 and sa.counts["N"] == 1 and sa.counts["not run"] > 0
    assert sa.state == "finished" and sa.model == "AC22" and sa.firmware == "1.2.3"
    assert sa.report_link == "pabot_results/1/0/certification-report.html"
    assert 'href="pabot_results/1/0/certification-report.html"' in html
    assert sb.state == "interrupted" and sb.counts["Y"] == 1
    assert sc.state == "preflight failed" and "refused" in sc.message
    assert "preflight failed: ev_simulator" in html
    # each bench's checklist: step 23 is N on bench A
    section_a = html.split('id="bench-1"')[1].split('id="bench-2"')[0]
    assert re.search(r"<td>23</td>.*?<td class=\"N\">N</td>", section_a, re.S)
    assert any_failure(summaries)


def test_a_clean_night_is_no_failure(tmp_path: Path) -> None:
    a = bench(tmp_path, "A")
    fa = bench_folder(tmp_path / "pabot_results", 1, a, [("1", "PASS")], ended=True)
    _, summaries = write_summary(tmp_path, "n", [a], {"A": fa}, {"A": "finished"})
    assert not any_failure(summaries)


def test_html_escapes_what_a_dut_reports(tmp_path: Path) -> None:
    a = bench(tmp_path, "<script>x</script>", ["<b>bad</b>"])
    page, _ = write_summary(tmp_path, "n", [a], {}, {})
    html = page.read_text()
    assert "<script>x" not in html and "&lt;b&gt;bad" in html
