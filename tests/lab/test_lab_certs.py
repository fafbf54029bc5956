"""``hil lab certs`` into a folder that already holds a lab CA keeps that CA: the stations
were given it as their CSMS root certificate, and a new CA would lock them all out."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

from hil.cli import main


def _cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _verifies(leaf_path, ca_path) -> bool:
    """The back office certificate chains to the CA as a TLS client would check it."""
    store = Store([_cert(ca_path)])
    verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName("localhost"))
    try:
        verifier.verify(_cert(leaf_path), [])
    except x509.verification.VerificationError:
        return False
    return True


def test_a_second_run_keeps_the_ca_and_issues_from_it(tmp_path, capsys):
    """Harm prevented: a second ``hil lab certs`` (say for a new host name) silently made a
    new lab CA, so every station that trusted the old one refused the back office. The CA
    and its key stay byte for byte, it says so, and the new leaf certificates verify
    against the old CA."""
    out = tmp_path / "certs"
    assert main(["lab", "certs", "--out", str(out)]) == 0
    ca, ca_key = (out / "lab-ca.pem").read_bytes(), (out / "lab-ca-key.pem").read_bytes()
    first_server = (out / "back-office.pem").read_bytes()
    capsys.readouterr()

    assert (
        main(["lab", "certs", "--out", str(out), "--host", "localhost", "--station-id", "CP-2"])
        == 0
    )
    said = capsys.readouterr().out
    assert said.startswith(f"kept the existing lab CA {out / 'lab-ca.pem'}"), said
    assert "--force" in said
    assert (out / "lab-ca.pem").read_bytes() == ca
    assert (out / "lab-ca-key.pem").read_bytes() == ca_key
    assert (out / "back-office.pem").read_bytes() != first_server  # issued anew
    assert _verifies(out / "back-office.pem", out / "lab-ca.pem")
    client = _cert(out / "station.pem")
    client.verify_directly_issued_by(_cert(out / "lab-ca.pem"))
    assert client.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "CP-2"
    assert client.not_valid_after_utc <= _cert(out / "lab-ca.pem").not_valid_after_utc


def test_force_makes_a_new_ca(tmp_path, capsys):
    """``--force`` replaces the CA; the new certificates chain to the new CA only."""
    out = tmp_path / "certs"
    assert main(["lab", "certs", "--out", str(out)]) == 0
    old_ca = tmp_path / "old-ca.pem"
    old_ca.write_bytes((out / "lab-ca.pem").read_bytes())
    old_key = (out / "lab-ca-key.pem").read_bytes()
    capsys.readouterr()

    assert main(["lab", "certs", "--out", str(out), "--force"]) == 0
    assert "kept" not in capsys.readouterr().out
    assert (out / "lab-ca.pem").read_bytes() != old_ca.read_bytes()
    assert (out / "lab-ca-key.pem").read_bytes() != old_key
    assert _verifies(out / "back-office.pem", out / "lab-ca.pem")
    assert not _verifies(out / "back-office.pem", old_ca)


@pytest.mark.parametrize("broken", ["key missing", "key of another CA", "not PEM"])
def test_a_ca_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, capsys, broken):
    """A half or broken CA is not silently replaced either: one line naming the file and
    what is wrong, exit 2, and the CA file untouched (``--force`` is the way out)."""
    out, other = tmp_path / "certs", tmp_path / "other"
    assert main(["lab", "certs", "--out", str(out)]) == 0
    assert main(["lab", "certs", "--out", str(other)]) == 0
    if broken == "key missing":
        (out / "lab-ca-key.pem").unlink()
    elif broken == "key of another CA":
        (out / "lab-ca-key.pem").write_bytes((other / "lab-ca-key.pem").read_bytes())
    else:
        (out / "lab-ca.pem").write_text("not a certificate\n")
    ca = (out / "lab-ca.pem").read_bytes()
    capsys.readouterr()
    assert main(["lab", "certs", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "--force" in err, err
    assert (out / "lab-ca.pem").read_bytes() == ca
    assert main(["lab", "certs", "--out", str(out), "--force"]) == 0
