"""The bench launcher starts ``hil sim`` as a child process and stops it again."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from hil.lab.launcher import READY_PREFIX, VirtualBenchProcess

REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(90)
def test_a_rerun_in_the_same_folder_starts_a_fresh_log(tmp_path: Path) -> None:
    lab = tmp_path / "virtual.yaml"
    shutil.copy(REPO / "lab_configs" / "virtual.yaml", lab)
    log = tmp_path / "out" / "virtual-bench.log"
    for _ in range(2):
        bench = VirtualBenchProcess(lab, f"ws://127.0.0.1:{closed_port()}", log)
        try:
            addresses = bench.start(timeout=30)
            assert set(addresses) >= {"energy_meter", "network_switch"}
        finally:
            bench.stop(timeout=10)
        assert not bench.running
    text = log.read_text(encoding="utf-8")
    assert text.count(READY_PREFIX) == 1, text  # only the second run's output
    assert text.count("virtual bench stopped") == 1, text
    assert "Fatal Python error" not in text and "Traceback" not in text, text
