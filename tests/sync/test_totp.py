"""RFC 4226 and RFC 6238 arithmetic, checked against the RFCs' own test vectors."""

from datetime import UTC, datetime, timedelta

import pytest

from sync.totp import hotp, step_of, totp, verify_totp

SHA1_SECRET = b"12345678901234567890"
SHA256_SECRET = b"12345678901234567890123456789012"
SHA512_SECRET = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


@pytest.mark.parametrize(("unix", "sha1", "sha256", "sha512"), VECTORS)
def test_totp_matches_the_rfc_6238_appendix_b_vectors(unix, sha1, sha256, sha512):
    assert totp(SHA1_SECRET, at(unix), digits=8) == sha1
    assert totp(SHA256_SECRET, at(unix), digits=8, digest="sha256") == sha256
    assert totp(SHA512_SECRET, at(unix), digits=8, digest="sha512") == sha512


def test_hotp_matches_the_rfc_4226_appendix_d_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
    assert [hotp(SHA1_SECRET, counter) for counter in range(10)] == expected


def test_the_step_counter_is_unix_time_divided_by_the_step():
    assert step_of(at(59)) == 1
    assert step_of(at(1111111109)) == 0x23523EC
    assert step_of(at(20000000000), step=60) == 20000000000 // 60


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        totp(SHA1_SECRET, datetime(2024, 5, 1, 8, 0))


def test_a_code_verifies_within_one_step_of_drift_and_returns_its_counter():
    shown_at = at(1234567890)
    code = totp(SHA1_SECRET, shown_at, digits=8)
    assert verify_totp(SHA1_SECRET, code, shown_at + timedelta(seconds=30), digits=8) == step_of(shown_at)
    assert verify_totp(SHA1_SECRET, code, shown_at - timedelta(seconds=30), digits=8) == step_of(shown_at)


def test_a_code_replayed_an_hour_later_fails():
    shown_at = at(1234567890)
    code = totp(SHA1_SECRET, shown_at, digits=8)
    assert verify_totp(SHA1_SECRET, code, shown_at + timedelta(hours=1), digits=8) is None


def test_a_code_two_steps_away_fails_with_the_default_window():
    shown_at = at(1234567890)
    code = totp(SHA1_SECRET, shown_at)
    assert verify_totp(SHA1_SECRET, code, shown_at + timedelta(seconds=61)) is None
    assert verify_totp(SHA1_SECRET, code, shown_at + timedelta(seconds=61), window=2) == step_of(shown_at)


@pytest.mark.parametrize("code", ["", "1234567", "abcdefgh", "１２３４５６７８", "123456789"])
def test_codes_of_the_wrong_shape_never_verify(code):
    assert verify_totp(SHA1_SECRET, code, at(59), digits=8) is None
