import random
import struct
import zlib

from casehooks.sender.files import fake_file


def test_png_header_has_a_valid_ihdr_crc() -> None:
    for seed in range(20):
        name, data = fake_file(random.Random(seed), 200)
        if name.endswith(".png"):
            chunk = data[12:29]
            assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(chunk)
            return
    raise AssertionError("no PNG in 20 seeds")


def test_size_is_exact_even_below_the_header() -> None:
    assert len(fake_file(random.Random(1), 3)[1]) == 3
    assert len(fake_file(random.Random(1), 0)[1]) == 0
