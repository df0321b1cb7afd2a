"""The home network's certificates: a CA made once, a server certificate naming every address,
renewed before it expires or when the addresses change, keys readable by this user only, and a
certificate of the user's own used instead."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from server.lan import certs as lan_certs
from server.lan.certs import ensure_certificates
from server.lan.service import lan_service
from server.settings import LanSettings, Settings


def names_of(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in sans}


def test_a_ca_and_a_server_certificate_for_every_name(tmp_path: Path) -> None:
    made = ensure_certificates(tmp_path / "lan", ["memoria-home.test", "192.168.1.20", "127.0.0.1"])
    assert names_of(made.cert_file) == {"memoria-home.test", "192.168.1.20", "127.0.0.1"}
    for key in (made.key_file, tmp_path / "lan" / "ca.key"):
        assert key.stat().st_mode & 0o777 == 0o600
    # a TLS client trusting only the CA accepts the server certificate for those names
    context = ssl.create_default_context(cafile=str(made.ca_file))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(made.cert_file, made.key_file)
    assert context.verify_mode == ssl.CERT_REQUIRED
    ca = x509.load_pem_x509_certificate(made.ca_file.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert len(made.ca_fingerprint.split(":")) == 32


def test_the_same_names_keep_the_certificate_new_names_or_expiry_renew_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ensure_certificates(tmp_path, ["memoria-home.test"])
    pem, ca = first.cert_file.read_bytes(), first.ca_file.read_bytes()
    assert ensure_certificates(tmp_path, ["memoria-home.test"]).cert_file.read_bytes() == pem
    moved = ensure_certificates(tmp_path, ["memoria-home.test", "10.0.0.7"])  # the router gave a new address
    assert moved.cert_file.read_bytes() != pem and "10.0.0.7" in names_of(moved.cert_file)
    assert moved.ca_file.read_bytes() == ca  # the phones keep trusting the same CA
    # a year later the server certificate is within 30 days of expiring: renewed, same CA
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=lan_certs.SERVER_DAYS - 10)
    monkeypatch.setattr(lan_certs, "_now", lambda: later)
    renewed = ensure_certificates(tmp_path, ["memoria-home.test", "10.0.0.7"])
    cert = x509.load_pem_x509_certificate(renewed.cert_file.read_bytes())
    assert cert.not_valid_after_utc > later + dt.timedelta(days=300)
    assert renewed.ca_file.read_bytes() == ca


def test_the_service_names_lan_addresses_and_prefers_the_name_the_browser_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, lan=LanSettings(enabled=True, port=9443, names=("memoria-home.test",)))
    home = lan_service(settings)
    assert home is not None and home.certificates is not None
    assert home.url_for("memoria-home.test:9443") == "https://memoria-home.test:9443/"
    assert all("127.0.0.1" not in u and "localhost" not in u for u in home.urls())
    ips = [n for n in home.names if n[:1].isdigit() and n != "127.0.0.1"]
    for ip in ips:
        assert ipaddress.ip_address(ip).is_private
    assert lan_service(Settings(data_dir=tmp_path)) is None  # off unless asked for


def test_a_certificate_of_the_users_own_is_used_instead(tmp_path: Path) -> None:
    own = ensure_certificates(tmp_path / "theirs", ["memoria.example.org"])
    lan = LanSettings(enabled=True, cert_file=own.cert_file, key_file=own.key_file)
    home = lan_service(Settings(data_dir=tmp_path / "data", lan=lan))
    assert home is not None and home.certificates is None and home.cert_file == own.cert_file
    assert not (tmp_path / "data" / "lan").exists()  # no CA of ours to trust
