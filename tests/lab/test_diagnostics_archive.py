"""hil.lab.archive: what a diagnostics file is, from its bytes (issue 18 item 6)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from hil.lab.archive import describe
from hil.sim.station.diagnostics import TRUNCATED_TAR_GZ


def _tar_gz(members: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i in range(members):
            data = f"line {i}\n".encode()
            info = tarfile.TarInfo(f"log-{i}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_readable_tar_gz_names_its_members():
    kind = describe("diag.tar.gz", _tar_gz(3))
    assert kind.readable and kind.what == "a readable tar.gz archive with 3 members"


def test_a_truncated_tar_gz_is_not_readable():
    kind = describe("diag.tar.gz", TRUNCATED_TAR_GZ)
    assert len(TRUNCATED_TAR_GZ) == 10
    assert not kind.readable
    assert kind.what == "not a readable archive: gzip data truncated after 10 bytes"
    cut = _tar_gz(2)[:-12]
    assert describe("diag.tar.gz", cut).what.startswith("not a readable archive: gzip data")


def test_zip_gzip_text_and_mislabelled_files():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a.log", "a")
        archive.writestr("b.log", "b")
    assert describe("d.zip", buf.getvalue()).what == "a readable zip archive with 2 members"
    assert not describe("d.zip", buf.getvalue()[:30]).readable
    assert describe("d.gz", gzip.compress(b"abc")).readable
    plain = describe("diagnostics.txt", b"station: CP-1\n")
    assert plain.readable and plain.what == "a text file of 14 bytes"
    mislabelled = describe("diagnostics.tar.gz", b"station: CP-1\n")
    assert not mislabelled.readable
    assert mislabelled.what == "not a readable archive: named .tar.gz but a text file of 14 bytes"
