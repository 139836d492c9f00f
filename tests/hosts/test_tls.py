"""`carerounds serve --certfile F --keyfile F` answers HTTPS (gunicorn's own TLS)."""

import datetime as dt
import ipaddress
import ssl
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.cli import gunicorn_settings, serve
from backend.clock import utcnow


def self_signed(folder):
    """A certificate for 127.0.0.1 and localhost, signed by its own key: (certfile, keyfile)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_the_certificate_and_key_reach_gunicorn():
    settings = gunicorn_settings("0.0.0.0", 8443, 2, {"certfile": "c.pem", "keyfile": "k.pem"})
    assert (settings["certfile"], settings["keyfile"]) == ("c.pem", "k.pem")
    assert "certfile" not in gunicorn_settings("0.0.0.0", 8000, 2)


def test_a_certificate_without_its_key_is_a_usage_error(app, tmp_path):
    certfile, _keyfile = self_signed(tmp_path)
    result = app.test_cli_runner().invoke(serve, ["--certfile", str(certfile)])
    assert result.exit_code == 2 and "--certfile and --keyfile go together" in result.output


def test_serve_answers_https_with_the_given_certificate(processes, tmp_path):
    certfile, keyfile = self_signed(tmp_path)
    base = processes.serve("tls", "--no-scheduler", "--certfile", str(certfile), "--keyfile", str(keyfile))
    assert base.startswith("https://")
    trusting = ssl.create_default_context(cafile=str(certfile))  # verifies the chain and the host name
    with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=10, context=trusting) as response:
        assert response.status == 200 and b'"CareRounds API"' in response.read()
    with pytest.raises(OSError):  # plain HTTP there is dropped (reset, or refused as a bad handshake)
        urllib.request.urlopen(base.replace("https://", "http://") + "/api/v1/openapi.json", timeout=5)
