from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks.sender.urlpolicy import OutboundRefused, UrlPolicy, loose_ipv4


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/",
        "http://169.254.1.1/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/hook",
    ],
)
def test_metadata_and_link_local_literals_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        UrlPolicy().check_url(url)


def test_metadata_is_refused_even_when_allow_listed() -> None:
    policy = UrlPolicy.from_list(["169.254.0.0/16", "metadata.internal"])
    with pytest.raises(OutboundRefused, match="metadata"):
        policy.check("http://metadata.internal/", ["169.254.169.254"])


def test_a_name_resolving_to_metadata_is_refused() -> None:
    with pytest.raises(OutboundRefused, match="metadata"):
        UrlPolicy().check("http://innocent.example/hook", ["93.184.216.34", "169.254.169.254"])


def test_loopback_is_allowed_by_default() -> None:
    UrlPolicy().check("http://127.0.0.1:8080/hook", ["127.0.0.1"])
    UrlPolicy().check("http://localhost/hook", ["::1"])


def test_loopback_can_be_refused() -> None:
    with pytest.raises(OutboundRefused, match="loopback"):
        UrlPolicy(allow_loopback=False).check("http://127.0.0.1/hook", ["127.0.0.1"])


def test_public_hosts_are_allowed_without_an_allow_list() -> None:
    UrlPolicy().check("https://hooks.example.com/x", ["93.184.216.34"])


def test_allow_list_limits_destinations() -> None:
    policy = UrlPolicy.from_list(["hooks.example.com", "10.0.0.0/8"])
    policy.check("https://hooks.example.com/x", ["93.184.216.34"])
    policy.check("https://internal.example/x", ["10.1.2.3"])
    with pytest.raises(OutboundRefused, match="allow-list"):
        policy.check("https://other.example/x", ["93.184.216.35"])


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "http://u:p@h.test/"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        UrlPolicy().check_url(url)


def test_unresolvable_host_is_refused() -> None:
    with pytest.raises(OutboundRefused, match="resolve"):
        UrlPolicy().check("http://nowhere.invalid/", [])


LINK_LOCAL_V4 = st.integers(min_value=int(IPv4Address("169.254.0.0")), max_value=int(IPv4Address("169.254.255.255")))


TEREDO_PREFIX = (0x20010000 << 96) | (0x41414141 << 64) | (0x8000 << 48) | (0x1234 << 32)


def _encodings(number: int) -> list[str]:
    """Every host spelling of one IPv4 address that a connect could reach it by."""
    a, b, c, d = IPv4Address(number).packed
    return [
        str(number),
        hex(number),
        f"0{number:o}",
        f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
        f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
        f"{a}.{b}.{(c << 8) | d}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"[::ffff:{IPv4Address(number)}]",
        f"[{IPv6Address((0xFFFF << 32) | number)}]",
        f"[::{IPv4Address(number)}]",
        f"[{IPv6Address((0x64FF9B << 96) | number)}]",
        f"[64:ff9b::{IPv4Address(number)}]",
        f"[{IPv6Address((0x0064FF9B0001 << 80) | number)}]",
        f"[{IPv6Address((0x2002 << 112) | (number << 80) | 1)}]",
        f"[{IPv6Address(TEREDO_PREFIX | (number ^ 0xFFFFFFFF))}]",
    ]


@settings(max_examples=200, deadline=None)
@given(number=LINK_LOCAL_V4)
def test_every_encoding_of_a_link_local_address_is_refused(number: int) -> None:
    for host in _encodings(number):
        with pytest.raises(OutboundRefused, match=r"metadata|link-local"):
            UrlPolicy().check_url(f"http://{host}/hook")


@settings(max_examples=100, deadline=None)
@given(number=LINK_LOCAL_V4)
def test_a_name_resolving_to_an_embedded_link_local_address_is_refused(number: int) -> None:
    for host in _encodings(number)[7:]:
        with pytest.raises(OutboundRefused):
            UrlPolicy().check("http://innocent.example/hook", [host.strip("[]")])


def test_the_metadata_address_in_every_encoding_is_named() -> None:
    for host in _encodings(int(IPv4Address("169.254.169.254"))):
        with pytest.raises(OutboundRefused, match="metadata"):
            UrlPolicy().check_url(f"http://{host}/")


@settings(max_examples=100, deadline=None)
@given(number=st.integers(min_value=int(IPv4Address("127.0.0.0")), max_value=int(IPv4Address("127.255.255.255"))))
def test_every_encoding_of_loopback_is_refused_when_loopback_is(number: int) -> None:
    for host in _encodings(number):
        with pytest.raises(OutboundRefused, match="loopback"):
            UrlPolicy(allow_loopback=False).check_url(f"http://{host}/hook")


@pytest.mark.parametrize("host", ["example.com", "1.example", "0x.example", "hooks-1.example.com"])
def test_names_are_not_read_as_numbers(host: str) -> None:
    assert loose_ipv4(host) is None


def test_public_addresses_in_numeric_forms_pass() -> None:
    UrlPolicy().check_url("http://1572395042/hook")  # 93.184.216.34
    UrlPolicy().check_url("http://[2002:5db8:d822::1]/hook")  # 6to4 of a public address
