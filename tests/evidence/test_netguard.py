import socket

import pytest

from evidence.netguard import ResolutionFailed, UnsafeURL, is_public_address, resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12::1",
        "fec0::1",
        "::ffff:127.0.0.1",
        "::ffff:0:a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::a00:5",
        "64:ff9b:1::a00:1",
        "2002:7f00:1::",
        "2001::1",
        "::7f00:1",
        "224.0.0.1",
        "ff02::1",
    ],
)
def test_private_and_special_addresses_are_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"])
def test_public_addresses_pass(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/",
        "https://0x7f.1/",
        "https://127.1/",
        "https://localhost./",
        "https://[::1]:8443/",
        "https://169.254.169.254./latest",
        "ftp://example.com/",
        "https://u:p@example.com/",
    ],
)
def test_tricky_urls_are_refused(url, settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(UnsafeURL):
        resolve(url)


def test_a_name_that_does_not_resolve_is_a_retryable_failure(monkeypatch, settings):
    settings.ALLOW_PRIVATE_URLS = False

    def temporary_failure(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr("evidence.netguard.socket.getaddrinfo", temporary_failure)
    with pytest.raises(ResolutionFailed):
        resolve("https://hooks.example.com/x")
