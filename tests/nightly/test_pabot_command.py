"""The files and command line ``hil nightly`` gives pabot."""

from __future__ import annotations

import configparser
from pathlib import Path

from hil.nightly import pabot_command as pc
from hil.nightly.pabot_command import NightOptions, Selection
from hil.robot.keywords import lab as lab_keywords
from tests.nightly.fakes import bench

SUITES = Path(__file__).resolve().parents[2] / "robot_suites"


def test_resource_file_has_a_value_set_per_bench_tagged_bench(tmp_path: Path) -> None:
    benches = [bench(tmp_path, "Bench A"), bench(tmp_path, "Bench B")]
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(pc.resource_file_text(benches))
    assert conf.sections() == ["Bench A", "Bench B"]
    for b in benches:
        assert conf[b.name]["tags"] == "bench"
        assert conf[b.name]["lab"] == str(b.config)


def test_resource_file_is_what_pabotlib_reads(tmp_path: Path) -> None:
    from pabot.pabotlib import _PabotLib

    benches = [bench(tmp_path, "A"), bench(tmp_path, "B")]
    path = tmp_path / "benches.dat"
    path.write_text(pc.resource_file_text(benches))
    lib = _PabotLib(str(path))
    first = lib.acquire_value_set("worker-1", "bench")
    second = lib.acquire_value_set("worker-2", "bench")
    assert {first[0], second[0]} == {"A", "B"}  # two workers never share a bench
    assert lib.acquire_value_set("worker-3", "bench") == (None, None)  # waits
    lib.release_value_set("worker-1")
    assert lib.acquire_value_set("worker-3", "bench")[0] == first[0]
    assert lib.get_value_from_set("lab", "worker-3") == str(
        benches[0].config if first[0] == "A" else benches[1].config
    )


def test_the_robot_side_uses_the_same_names() -> None:
    assert pc.PABOT_LAB == lab_keywords.PABOT_LAB
    assert pc.BENCH_TAG == lab_keywords.PABOT_BENCH_TAG


def test_ordering_is_one_group_of_all_suites_in_order() -> None:
    text = pc.ordering_text(["Robot Suites.01 Core", "Robot Suites.02 Sessions"])
    assert text.splitlines() == [
        "{",
        "--suite Robot Suites.01 Core",
        "--suite Robot Suites.02 Sessions",
        "}",
    ]


def test_ordering_parses_as_one_pabot_group(tmp_path: Path) -> None:
    from pabot.pabot import _group_by_groups, _parse_ordering

    path = tmp_path / "ordering.txt"
    path.write_text(pc.ordering_text(["Robot Suites.01 Core", "Robot Suites.02 Sessions"]))
    groups = _group_by_groups(_parse_ordering(str(path)))
    assert len(groups) == 1
    assert [i.name for i in groups[0]._items] == [
        "Robot Suites.01 Core",
        "Robot Suites.02 Sessions",
    ]


def test_selection_counts_the_selected_checklist_tests() -> None:
    every = pc.select_tests(SUITES, [], [])
    assert every.suites[0] == "Robot Suites.01 Core" and len(every.suites) == 7
    some = pc.select_tests(SUITES, ["step:1", "step:5", "step:23"], [])
    assert some.total == 3
    assert some.suites == ["Robot Suites.01 Core", "Robot Suites.05 Cache And Trigger"]
    fewer = pc.select_tests(SUITES, ["step:1", "step:5"], ["step:5"])
    assert fewer.total == 1


def test_files_and_command_line(tmp_path: Path) -> None:
    benches = [bench(tmp_path, "A"), bench(tmp_path, "B"), bench(tmp_path, "C")]
    work = tmp_path / "work"
    argfiles = pc.write_pabot_files(work, benches, Selection(["Robot Suites.01 Core"], 3))
    assert [p.name for p in argfiles] == ["bench1.args", "bench2.args", "bench3.args"]
    assert argfiles[1].read_text() == "--variable HIL_SLOT:2\n"
    opts = NightOptions(
        results=tmp_path / "res",
        suites_dir=SUITES,
        include=["step:1"],
        exclude=["slow"],
        history="sqlite:///h.sqlite",
        night="2026-11-30",
    )
    cmd = pc.pabot_command(opts, work, argfiles, python="py")
    assert cmd[:5] == ["py", "-m", "pabot.pabot", "--processes", "3"]
    joined = " ".join(cmd)
    assert "--pabotlib --pabotlibport 0" in joined
    assert f"--resourcefile {work / 'benches.dat'}" in joined
    assert f"--ordering {work / 'ordering.txt'}" in joined
    for i, path in enumerate(argfiles, 1):
        assert f"--argumentfile{i} {path}" in joined
    for pair in (
        "--variable LAB:pabot",
        "--variable HIL_HISTORY:sqlite:///h.sqlite",
        "--variable HIL_NIGHT:2026-11-30",
        "--include step:1",
        "--exclude slow",
        f"--outputdir {tmp_path / 'res'}",
    ):
        assert pair in joined
    # pabot's own options come before Robot's
    assert cmd.index("--argumentfile3") < cmd.index("--outputdir")
    assert cmd[-1] == str(SUITES)


def test_command_line_with_a_pabotlib_server_elsewhere(tmp_path: Path) -> None:
    opts = NightOptions(results=tmp_path, suites_dir=SUITES, pabotlib_uri="lab-server:8270")
    cmd = pc.pabot_command(opts, tmp_path, [tmp_path / "a.args"])
    joined = " ".join(cmd)
    assert "--pabotlibhost lab-server --pabotlibport 8270" in joined
    assert "--pabotlib " not in joined
    assert "--variable HIL_PABOTLIB_URI:lab-server:8270" in joined
