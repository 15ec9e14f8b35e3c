"""x-cv-signature signing and verification, checked against vectors computed independently of the code."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks import Authenticator, SignatureError, StaticHeader, sign, verify

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = [FIXTURES / "add_case_attachment.json", FIXTURES / "add_case_comment.json"]

# RFC 4231 section 4: HMAC-SHA-256 test cases 1-4, 6 and 7 (case 5 truncates the output).
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data."
        b" The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]
SECRET = "whsec_4f1d2c3b-seed-secret"


def _node_hmac(body: bytes, secret: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot compute the reference HMAC")
    script = (
        "const c=require('crypto');let d=[];process.stdin.on('data',x=>d.push(x));"
        "process.stdin.on('end',()=>process.stdout.write("
        "c.createHmac('sha256',process.argv[1]).update(Buffer.concat(d)).digest('hex')))"
    )
    completed = subprocess.run([node, "-e", script, secret], input=body, capture_output=True, check=True, timeout=30)
    return completed.stdout.decode("ascii")


def _openssl_hmac(body: bytes, secret: str) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot compute the reference HMAC")
    completed = subprocess.run(
        [openssl, "dgst", "-sha256", "-hmac", secret], input=body, capture_output=True, check=True, timeout=30
    )
    return completed.stdout.decode("ascii").strip().split()[-1]


@pytest.mark.parametrize(("key", "data", "digest"), RFC_4231)
def test_sign_matches_rfc_4231(key: bytes, data: bytes, digest: str) -> None:
    assert sign(data, key) == digest


@pytest.mark.parametrize(("key", "data", "digest"), RFC_4231)
def test_verify_accepts_rfc_4231(key: bytes, data: bytes, digest: str) -> None:
    assert verify(data, digest, key) == 0


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.name)
def test_sign_matches_node_crypto_over_the_seed_body(seed: Path) -> None:
    body = seed.read_bytes()
    assert sign(body, SECRET) == _node_hmac(body, SECRET)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda path: path.name)
def test_sign_matches_openssl_over_the_seed_body(seed: Path) -> None:
    body = seed.read_bytes()
    assert sign(body, SECRET) == _openssl_hmac(body, SECRET)


def test_str_and_bytes_secrets_are_the_same_key() -> None:
    secret = "s\u00e9cret"
    assert sign(b"body", secret) == sign(b"body", secret.encode("utf-8"))
    assert sign(b"body", secret) == _node_hmac(b"body", secret)


def test_signature_is_lowercase_hex() -> None:
    signature = sign(b"{}", SECRET)
    assert len(signature) == 64
    assert signature == signature.lower()
    int(signature, 16)


def test_upper_case_hex_is_accepted() -> None:
    assert verify(b"{}", sign(b"{}", SECRET).upper(), SECRET) == 0


def test_surrounding_whitespace_is_accepted() -> None:
    assert verify(b"{}", f"  {sign(b'{}', SECRET)}\t", SECRET) == 0


@pytest.mark.parametrize(
    "header",
    [
        "abc",
        "0" * 63,
        "0" * 65,
        "g" * 64,
        "sha256=" + "0" * 64,
        "0" * 32 + " " + "0" * 31,
        "\u0660" * 64,
    ],
    ids=["short", "63", "65", "non-hex", "sha256-prefix", "inner-space", "arabic-digits"],
)
def test_malformed_signature(header: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", header, SECRET)
    assert caught.value.reason == "malformed"


def test_sha256_prefixed_valid_signature_is_malformed() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", "sha256=" + sign(b"{}", SECRET), SECRET)
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header: str | None) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", header, SECRET)
    assert caught.value.reason == "missing"


def test_wrong_signature_is_a_mismatch() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", sign(b"{}", "another secret"), SECRET)
    assert caught.value.reason == "mismatch"


def test_signature_of_another_body_is_a_mismatch() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b'{"a":1}', sign(b'{"a": 1}', SECRET), SECRET)
    assert caught.value.reason == "mismatch"


def test_rotation_returns_the_index_of_the_matching_secret() -> None:
    secrets = ["old", "current", b"next"]
    assert verify(b"{}", sign(b"{}", "old"), secrets) == 0
    assert verify(b"{}", sign(b"{}", "current"), secrets) == 1
    assert verify(b"{}", sign(b"{}", b"next"), secrets) == 2


def test_rotation_with_a_repeated_secret_returns_the_first_index() -> None:
    assert verify(b"{}", sign(b"{}", "same"), ("other", "same", "same")) == 1


def test_rotation_with_no_matching_secret_is_a_mismatch() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", sign(b"{}", "unknown"), ["a", "b"])
    assert caught.value.reason == "mismatch"


def test_no_secret_configured_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify(b"{}", sign(b"{}", SECRET), [])


def test_signature_error_message_holds_no_secret() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(b"{}", sign(b"{}", "x"), SECRET)
    assert SECRET not in str(caught.value)


# --- the static header option --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["X-Api-Key", "x-api-key", "X-API-KEY"])
def test_static_header_name_is_case_insensitive(name: str) -> None:
    StaticHeader("x-Api-key", "static-secret").check({name: "static-secret"})


def test_static_header_wrong_value() -> None:
    with pytest.raises(SignatureError) as caught:
        StaticHeader("X-Api-Key", "static-secret").check({"X-Api-Key": "static-secreT"})
    assert caught.value.reason == "auth header mismatch"


def test_static_header_missing() -> None:
    with pytest.raises(SignatureError) as caught:
        StaticHeader("X-Api-Key", "static-secret").check({"X-Other": "static-secret"})
    assert caught.value.reason == "missing auth header"


def test_static_header_repr_hides_the_value() -> None:
    header = StaticHeader("X-Api-Key", "static-secret")
    assert "static-secret" not in repr(header)
    assert "static-secret" not in str(header)
    assert "X-Api-Key" in repr(header)


# --- Authenticator -------------------------------------------------------------------------------------------


def _both() -> Authenticator:
    return Authenticator(secrets=("old", SECRET), static_header=StaticHeader("X-Api-Key", "static-secret"))


def test_authenticator_with_both_accepts_a_request_meeting_both() -> None:
    _both().authenticate(b"{}", {"X-CV-Signature": sign(b"{}", SECRET), "x-api-key": "static-secret"})


def test_authenticator_with_both_refuses_a_request_without_the_header() -> None:
    with pytest.raises(SignatureError) as caught:
        _both().authenticate(b"{}", {"x-cv-signature": sign(b"{}", SECRET)})
    assert caught.value.reason == "missing auth header"


def test_authenticator_with_both_refuses_a_request_without_the_signature() -> None:
    with pytest.raises(SignatureError) as caught:
        _both().authenticate(b"{}", {"x-api-key": "static-secret"})
    assert caught.value.reason == "missing"


def test_authenticator_with_both_refuses_a_bad_signature() -> None:
    with pytest.raises(SignatureError) as caught:
        _both().authenticate(b"{}", {"x-api-key": "static-secret", "x-cv-signature": sign(b"{ }", SECRET)})
    assert caught.value.reason == "mismatch"


def test_authenticator_with_nothing_configured_passes_and_says_so() -> None:
    authenticator = Authenticator()
    assert authenticator.required is False
    authenticator.authenticate(b"{}", {})
    assert _both().required is True
    assert Authenticator(secrets=("a",)).required is True


def test_authenticator_repr_hides_every_secret() -> None:
    text = repr(_both()) + str(_both())
    for secret in ("old", SECRET, "static-secret"):
        assert secret not in text
    assert "secrets=2" in text


# --- properties ----------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(body=st.binary(max_size=512), secret=st.one_of(st.binary(max_size=200), st.text(max_size=100)))
def test_verify_accepts_what_sign_produced(body: bytes, secret: bytes | str) -> None:
    assert verify(body, sign(body, secret), secret) == 0


@settings(max_examples=200)
@given(body=st.binary(min_size=1, max_size=512), secret=st.binary(min_size=1, max_size=64), data=st.data())
def test_any_single_bit_flip_of_the_body_fails(body: bytes, secret: bytes, data: st.DataObject) -> None:
    signature = sign(body, secret)
    bit = data.draw(st.integers(0, len(body) * 8 - 1))
    flipped = bytearray(body)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SignatureError) as caught:
        verify(bytes(flipped), signature, secret)
    assert caught.value.reason == "mismatch"


@settings(max_examples=100)
@given(body=st.binary(max_size=128), secret=st.binary(max_size=64), data=st.data())
def test_any_single_bit_flip_of_the_signature_fails(body: bytes, secret: bytes, data: st.DataObject) -> None:
    raw = bytearray(bytes.fromhex(sign(body, secret)))
    bit = data.draw(st.integers(0, 255))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SignatureError) as caught:
        verify(body, raw.hex(), secret)
    assert caught.value.reason == "mismatch"


@pytest.mark.parametrize(
    ("authenticator", "headers"),
    [
        (Authenticator(secrets=("s1",)), {"x-cv-signature": sign(b"chunked body", "s1")}),
        (Authenticator(secrets=("old", "s1")), {"X-CV-Signature": sign(b"chunked body", "s1")}),
        (Authenticator(secrets=("s1",)), {"x-cv-signature": "0" + sign(b"chunked body", "s1")[1:]}),
        (Authenticator(secrets=("s1",)), {"x-cv-signature": sign(b"chunked bodY", "s1")}),
        (Authenticator(secrets=("s1",)), {"x-cv-signature": "zz"}),
        (Authenticator(secrets=("s1",)), {}),
        (Authenticator(static_header=StaticHeader("x-token", "t")), {"x-token": "t"}),
        (Authenticator(static_header=StaticHeader("x-token", "t")), {"x-token": "u"}),
    ],
)
def test_a_body_authenticated_as_it_streams_gets_the_whole_body_verdict(
    authenticator: Authenticator, headers: dict[str, str]
) -> None:
    body = b"chunked body"
    try:
        authenticator.authenticate(body, headers)
        whole: str | None = None
    except SignatureError as exc:
        whole = exc.reason
    try:
        digest = authenticator.authenticate_stream([body[:3], b"", body[3:]], headers)
        streamed: str | None = None
    except SignatureError as exc:
        streamed = exc.reason
    assert streamed == whole
    if whole is None:
        assert digest == hashlib.sha256(body).hexdigest()
