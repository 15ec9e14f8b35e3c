import pytest

from casehooks.sender.urlpolicy import OutboundRefused, UrlPolicy


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
