from __future__ import annotations

import base64
import hashlib
import itertools
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks.crypto import (
    DEFAULT_SEGMENT_SIZE,
    DataKey,
    Keyring,
    MasterKey,
    WrappedKey,
    key_file_is_private,
    load_or_create_key_file,
    read_key_file,
    write_key_file,
)
from casehooks.errors import ConfigurationError, CryptoError

SEGMENT = DEFAULT_SEGMENT_SIZE


def master(key_id: str) -> MasterKey:
    return MasterKey(key_id, hashlib.sha256(key_id.encode()).digest())


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([master("k1")])


@pytest.fixture
def data_key(keyring: Keyring) -> DataKey:
    return DataKey.generate(keyring)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def odd_pieces(data: bytes) -> Iterator[bytes]:
    """Chunks of 1, 7, 4093, 65537 and 1 MiB + 3 bytes, in turn."""
    sizes = [1, 7, 4093, SEGMENT + 1, 1024 * 1024 + 3]
    start = 0
    for turn in range(len(data) + 1):
        if start >= len(data):
            return
        size = sizes[turn % len(sizes)]
        yield data[start : start + size]
        start += size


def encrypt(data_key: DataKey, data: bytes, segment_size: int = SEGMENT) -> bytes:
    return b"".join(data_key.encrypt_stream([data], segment_size))


def decrypt(data_key: DataKey, ciphertext: bytes) -> bytes:
    return b"".join(data_key.decrypt_stream([ciphertext]))


# Master keys and the keyring


def test_master_key_repr_hides_the_secret() -> None:
    key = master("k1")
    assert key.secret.hex() not in repr(key)
    assert repr(key.secret) not in repr(key)


def test_master_key_of_wrong_length_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        MasterKey("k1", b"short")


def test_keyring_with_duplicate_ids_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="twice"):
        Keyring([master("k1"), MasterKey("k1", os.urandom(32))])


def test_parse_reads_id_and_base64url_secret() -> None:
    secret = os.urandom(32)
    keyring = Keyring.parse(f"prod-1:{base64.urlsafe_b64encode(secret).decode().rstrip('=')}")
    assert keyring.active == MasterKey("prod-1", secret)


def test_parse_reads_standard_base64_with_padding() -> None:
    secret = bytes(range(250, 256)) * 5 + b"\xfb\xff"
    keyring = Keyring.parse(f"k1:{base64.b64encode(secret).decode()}")
    assert keyring.active.secret == secret


def test_parse_names_an_entry_without_id_by_its_hash() -> None:
    secret = os.urandom(32)
    keyring = Keyring.parse(base64.b64encode(secret).decode())
    assert keyring.active.key_id == hashlib.sha256(secret).hexdigest()[:8]


def test_parse_keeps_order_with_first_entry_active() -> None:
    text = ", ".join([Keyring.generate_entry(), Keyring.generate_entry(), Keyring.generate_entry()])
    keyring = Keyring.parse(text)
    assert keyring.key_ids == tuple(entry.split(":")[0].strip() for entry in text.split(","))
    assert keyring.active.key_id == keyring.key_ids[0]


def test_generated_entry_parses_to_a_fresh_key() -> None:
    first, second = Keyring.parse(Keyring.generate_entry()), Keyring.parse(Keyring.generate_entry())
    assert first.active.key_id != second.active.key_id
    assert first.active.secret != second.active.secret


_GOOD = Keyring.generate_entry()


@pytest.mark.parametrize(
    ("text", "secret", "reason"),
    [
        ("k1:" + base64.b64encode(b"s3cr3t-material-too-short").decode(), "czNjcjN0LW1hdGVyaWFs", "32 bytes"),
        ("k1:" + base64.b64encode(b"A" * 33).decode(), "QUFBQUFB", "32 bytes"),
        ("k1:not*base64*at*all-s3cr3tv4lue", "s3cr3tv4lue", "not base64"),
        ("s3cr3tv4lue!:" + base64.b64encode(b"B" * 32).decode(), "s3cr3tv4lue", "id"),
        ("bad id!:" + base64.b64encode(b"B" * 32).decode(), "QkJCQkJC", "id"),
        (_GOOD + ",,", _GOOD.split(":")[1], "empty"),
    ],
)
def test_parse_error_names_reason_without_key_material(text: str, secret: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason) as caught:
        Keyring.parse(text)
    assert secret in text
    assert secret not in str(caught.value)


def test_parse_of_empty_setting_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        Keyring.parse(" , ")


def test_parse_error_on_second_entry_does_not_show_the_first() -> None:
    good = Keyring.generate_entry()
    with pytest.raises(ConfigurationError, match="entry 2") as caught:
        Keyring.parse(f"{good},k2:tooshort")
    assert good.split(":")[1] not in str(caught.value)
    assert "tooshort" not in str(caught.value)


# Wrapping and rotation


def test_unwrap_returns_the_wrapped_data_key(keyring: Keyring) -> None:
    data_key = os.urandom(32)
    assert keyring.unwrap(keyring.wrap(data_key)) == data_key


def test_wrapped_key_survives_to_bytes_and_back(keyring: Keyring) -> None:
    wrapped = keyring.wrap(os.urandom(32))
    assert WrappedKey.from_bytes(wrapped.to_bytes()) == wrapped


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x02\x02k1", b"\x01\x02k1" + b"\x00" * 10])
def test_malformed_wrapped_key_bytes_are_a_crypto_error(data: bytes) -> None:
    with pytest.raises(CryptoError, match="malformed"):
        WrappedKey.from_bytes(data)


def test_unwrap_under_unknown_key_id_is_a_crypto_error(keyring: Keyring) -> None:
    wrapped = Keyring([master("other")]).wrap(os.urandom(32))
    with pytest.raises(CryptoError, match="unknown master key id other"):
        keyring.unwrap(wrapped)


def test_unwrap_of_tampered_blob_is_a_crypto_error(keyring: Keyring) -> None:
    wrapped = keyring.wrap(os.urandom(32))
    blob = bytearray(wrapped.blob)
    blob[-1] ^= 1
    with pytest.raises(CryptoError):
        keyring.unwrap(WrappedKey(wrapped.key_id, bytes(blob)))


def test_unwrap_with_same_id_but_other_secret_is_a_crypto_error(keyring: Keyring) -> None:
    wrapped = keyring.wrap(os.urandom(32))
    impostor = Keyring([MasterKey("k1", os.urandom(32))])
    with pytest.raises(CryptoError) as caught:
        impostor.unwrap(wrapped)
    assert impostor.active.secret.hex() not in str(caught.value)


def test_wrapped_key_cannot_be_relabelled_to_another_key_id() -> None:
    secret = os.urandom(32)
    keyring = Keyring([MasterKey("k1", secret), MasterKey("k2", secret)])
    wrapped = keyring.wrap(os.urandom(32))
    with pytest.raises(CryptoError):
        keyring.unwrap(WrappedKey("k2", wrapped.blob))


def test_rotation_rewraps_old_keys_under_the_new_active_key() -> None:
    data_key = os.urandom(32)
    old = Keyring([master("k1")]).wrap(data_key)
    rotated = Keyring([master("k2"), master("k1")])

    assert rotated.unwrap(old) == data_key
    assert rotated.needs_rewrap(old)
    rewrapped = rotated.rewrap(old)

    assert rewrapped.key_id == "k2"
    assert not rotated.needs_rewrap(rewrapped)
    assert Keyring([master("k2")]).unwrap(rewrapped) == data_key


def test_rewrap_under_the_active_key_changes_nothing(keyring: Keyring) -> None:
    wrapped = keyring.wrap(os.urandom(32))
    assert keyring.rewrap(wrapped) is wrapped


def test_data_key_opens_from_its_wrapped_form(keyring: Keyring, data_key: DataKey) -> None:
    sealed = data_key.seal(b"Jane Doe, 1970-01-01")
    reopened = DataKey.open(keyring, WrappedKey.from_bytes(data_key.wrapped.to_bytes()))
    assert reopened.open_sealed(sealed) == b"Jane Doe, 1970-01-01"


def test_data_key_repr_names_only_the_master_key(data_key: DataKey) -> None:
    assert repr(data_key) == "DataKey(master_key_id='k1')"


# Sealed values


@pytest.mark.parametrize("plaintext", [b"", b"x", b"Jane Doe" * 10_000])
def test_sealed_value_opens_to_the_plaintext(data_key: DataKey, plaintext: bytes) -> None:
    assert data_key.open_sealed(data_key.seal(plaintext, b"row-1"), b"row-1") == plaintext


def test_sealing_twice_gives_different_ciphertexts(data_key: DataKey) -> None:
    assert data_key.seal(b"same") != data_key.seal(b"same")


def test_sealed_value_with_other_aad_is_a_crypto_error(data_key: DataKey) -> None:
    sealed = data_key.seal(b"secret", b"row-1")
    with pytest.raises(CryptoError):
        data_key.open_sealed(sealed, b"row-2")


def test_tampered_sealed_value_is_a_crypto_error(data_key: DataKey) -> None:
    sealed = bytearray(data_key.seal(b"secret"))
    sealed[15] ^= 0x80
    with pytest.raises(CryptoError):
        data_key.open_sealed(bytes(sealed))


def test_sealed_value_under_another_data_key_is_a_crypto_error(keyring: Keyring, data_key: DataKey) -> None:
    with pytest.raises(CryptoError):
        DataKey.generate(keyring).open_sealed(data_key.seal(b"secret"))


def test_too_short_sealed_value_is_a_crypto_error(data_key: DataKey) -> None:
    with pytest.raises(CryptoError, match="truncated"):
        data_key.open_sealed(b"\x00" * 27)


def test_crypto_error_does_not_show_the_plaintext(data_key: DataKey) -> None:
    sealed = data_key.seal(b"Jane Doe")
    with pytest.raises(CryptoError) as caught:
        data_key.open_sealed(sealed, b"other")
    assert "Jane" not in str(caught.value)


# Streams


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT])
def test_stream_round_trips(data_key: DataKey, size: int) -> None:
    data = os.urandom(size)
    assert decrypt(data_key, encrypt(data_key, data)) == data


def test_five_mib_stream_round_trips_in_odd_chunks(data_key: DataKey) -> None:
    data = os.urandom(5 * 1024 * 1024 + 17)
    ciphertext = list(data_key.encrypt_stream(odd_pieces(data)))
    plaintext = b"".join(data_key.decrypt_stream(odd_pieces(b"".join(ciphertext))))
    assert plaintext == data


def test_stream_output_comes_one_segment_at_a_time(data_key: DataKey) -> None:
    ciphertext = list(data_key.encrypt_stream([os.urandom(10 * SEGMENT + 5)]))
    assert max(len(part) for part in ciphertext) == SEGMENT + 16
    assert len(ciphertext) == 1 + 11


def test_decrypted_stream_comes_one_segment_at_a_time(data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, os.urandom(10 * SEGMENT))
    assert max(len(part) for part in data_key.decrypt_stream([ciphertext])) == SEGMENT


def test_empty_stream_is_a_header_and_one_empty_final_segment(data_key: DataKey) -> None:
    ciphertext = list(data_key.encrypt_stream([]))
    assert [len(part) for part in ciphertext] == [25, 16]
    assert decrypt(data_key, b"".join(ciphertext)) == b""


def test_stream_with_empty_chunks_round_trips(data_key: DataKey) -> None:
    ciphertext = b"".join(data_key.encrypt_stream([b"", b"ab", b"", b"c", b""], 2))
    assert b"".join(data_key.decrypt_stream([b"", ciphertext, b""])) == b"abc"


def test_encrypting_twice_gives_different_ciphertexts(data_key: DataKey) -> None:
    assert encrypt(data_key, b"same file") != encrypt(data_key, b"same file")


def test_streams_under_one_data_key_do_not_share_a_keystream(data_key: DataKey) -> None:
    zeros, ones = encrypt(data_key, b"\x00" * 64)[25:89], encrypt(data_key, b"\xff" * 64)[25:89]
    assert bytes(a ^ b for a, b in zip(zeros, ones, strict=True)) != b"\xff" * 64


def test_stream_with_segment_size_of_one_round_trips(data_key: DataKey) -> None:
    assert decrypt(data_key, encrypt(data_key, b"hello", 1)) == b"hello"


@pytest.mark.parametrize("segment_size", [0, 16 * 1024 * 1024 + 1])
def test_out_of_range_segment_size_is_refused(data_key: DataKey, segment_size: int) -> None:
    with pytest.raises(ValueError, match="segment size"):
        data_key.encrypt_stream([b"x"], segment_size)


@given(
    data=st.binary(max_size=2000),
    segment_size=st.integers(min_value=1, max_value=300),
    cuts=st.lists(st.integers(min_value=0, max_value=2500), max_size=12),
    ciphertext_chunk=st.integers(min_value=1, max_value=700),
)
@settings(max_examples=150, deadline=None)
def test_stream_round_trips_under_any_chunking(
    data: bytes, segment_size: int, cuts: list[int], ciphertext_chunk: int
) -> None:
    data_key = DataKey.generate(Keyring([master("k1")]))
    bounds = sorted({0, len(data), *(min(cut, len(data)) for cut in cuts)})
    chunks = [data[start:end] for start, end in itertools.pairwise(bounds)]
    ciphertext = b"".join(data_key.encrypt_stream(chunks, segment_size))
    assert b"".join(data_key.decrypt_stream(pieces(ciphertext, ciphertext_chunk))) == data


@given(data=st.binary(min_size=1, max_size=600), position=st.integers(min_value=0), bit=st.integers(0, 7))
@settings(max_examples=150, deadline=None)
def test_any_flipped_bit_in_a_stream_is_a_crypto_error(data: bytes, position: int, bit: int) -> None:
    data_key = DataKey.generate(Keyring([master("k1")]))
    ciphertext = bytearray(encrypt(data_key, data, 64))
    ciphertext[position % len(ciphertext)] ^= 1 << bit
    with pytest.raises(CryptoError):
        decrypt(data_key, bytes(ciphertext))


@given(data=st.binary(min_size=1, max_size=600), keep=st.integers(min_value=0))
@settings(max_examples=150, deadline=None)
def test_any_truncated_stream_is_a_crypto_error(data: bytes, keep: int) -> None:
    data_key = DataKey.generate(Keyring([master("k1")]))
    ciphertext = encrypt(data_key, data, 64)
    with pytest.raises(CryptoError):
        decrypt(data_key, ciphertext[: keep % len(ciphertext)])


def test_stream_cut_at_a_segment_boundary_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, os.urandom(3 * 100), 100)
    without_last_segment = ciphertext[: 25 + 2 * 116]
    with pytest.raises(CryptoError, match="segment 1"):
        decrypt(data_key, without_last_segment)


def test_stream_with_data_after_the_final_segment_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, b"abc", 100)
    with pytest.raises(CryptoError):
        decrypt(data_key, ciphertext + ciphertext[25:])


def test_stream_with_swapped_segments_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, os.urandom(300), 100)
    header, first, second, last = ciphertext[:25], ciphertext[25:141], ciphertext[141:257], ciphertext[257:]
    with pytest.raises(CryptoError, match="segment 0"):
        decrypt(data_key, header + second + first + last)


def test_segment_from_another_stream_is_a_crypto_error(data_key: DataKey) -> None:
    one, other = encrypt(data_key, b"a" * 200, 100), encrypt(data_key, b"b" * 200, 100)
    with pytest.raises(CryptoError):
        decrypt(data_key, one[:25] + other[25:141] + one[141:])


def test_stream_under_wrong_data_key_is_a_crypto_error(keyring: Keyring, data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, b"Jane Doe")
    with pytest.raises(CryptoError):
        decrypt(DataKey.generate(keyring), ciphertext)


def test_stream_with_changed_segment_size_in_header_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = bytearray(encrypt(data_key, b"x" * 10, 100))
    ciphertext[8] = 50
    with pytest.raises(CryptoError):
        decrypt(data_key, bytes(ciphertext))


def test_stream_without_magic_is_a_crypto_error(data_key: DataKey) -> None:
    with pytest.raises(CryptoError, match="not an encrypted stream"):
        decrypt(data_key, b"%PDF-1.7" + b"\x00" * 100)


def test_stream_of_unknown_version_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = bytearray(encrypt(data_key, b"x"))
    ciphertext[4] = 9
    with pytest.raises(CryptoError, match="version 9"):
        decrypt(data_key, bytes(ciphertext))


def test_stream_header_with_huge_segment_size_is_a_crypto_error(data_key: DataKey) -> None:
    ciphertext = bytearray(encrypt(data_key, b"x"))
    ciphertext[5:9] = (2**32 - 1).to_bytes(4, "big")
    with pytest.raises(CryptoError, match="segment size"):
        decrypt(data_key, bytes(ciphertext))


def test_stream_is_not_a_sealed_value(data_key: DataKey) -> None:
    ciphertext = encrypt(data_key, b"x")
    with pytest.raises(CryptoError):
        data_key.open_sealed(ciphertext[:12] + ciphertext[25:])


# Key file


def test_key_file_is_created_owner_only_with_a_usable_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    text, created = load_or_create_key_file(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.parse(text).active.key_id == text.split(":")[0]


def test_missing_key_folder_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    load_or_create_key_file(path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_existing_key_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first, _ = load_or_create_key_file(path)
    second, created = load_or_create_key_file(path)
    assert (second, created) == (first, False)


def test_key_file_creation_leaves_no_temporary_files(tmp_path: Path) -> None:
    load_or_create_key_file(tmp_path / "master.key")
    assert [child.name for child in tmp_path.iterdir()] == ["master.key"]


def test_world_readable_key_file_is_read_and_reported_as_not_private(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    entry = Keyring.generate_entry()
    path.write_text(entry + "\n")
    path.chmod(0o644)
    assert load_or_create_key_file(path) == (entry, False)
    assert not key_file_is_private(path)


def test_created_key_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    load_or_create_key_file(path)
    assert key_file_is_private(path)


def test_unreadable_key_file_location_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "master.key").mkdir()
    with pytest.raises(ConfigurationError, match="master key file"):
        load_or_create_key_file(tmp_path / "master.key")


def test_key_file_of_several_lines_reads_in_order_with_the_first_active() -> None:
    first, second = Keyring.generate_entry(), Keyring.generate_entry()
    keyring = Keyring.parse(f"{first}\n{second}\n")
    assert keyring.key_ids == (first.split(":")[0], second.split(":")[0])
    assert keyring.active.key_id == first.split(":")[0]


def test_keyring_written_to_a_key_file_reads_back_the_same_keys(tmp_path: Path) -> None:
    keyring = Keyring.parse(f"{Keyring.generate_entry()},{Keyring.generate_entry()}")
    path = tmp_path / "master.key"
    write_key_file(path, keyring)
    assert read_key_file(path).keys == keyring.keys
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [child.name for child in tmp_path.iterdir()] == ["master.key"]


def test_rewriting_a_loose_key_file_makes_it_private_again(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(Keyring.generate_entry() + "\n")
    path.chmod(0o644)
    write_key_file(path, read_key_file(path))
    assert key_file_is_private(path)


def test_missing_key_file_read_is_a_configuration_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no master key file"):
        read_key_file(tmp_path / "master.key")


def test_key_file_text_never_shows_in_the_keyring_repr() -> None:
    entry = Keyring.generate_entry()
    assert entry.split(":")[1] not in repr(Keyring.parse(entry))
