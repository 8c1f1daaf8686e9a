"""Which addresses a webhook may go to: public ones only, however an inside address
is written."""

import ipaddress

import pytest

from roster.domain.network import inside, literal_address, url_refusal

INSIDE = {
    "http://127.0.0.1/": "a loopback address",
    "http://127.1.2.3:8080/x": "a loopback address",
    "http://2130706433/": "a loopback address",  # decimal
    "http://0x7f000001/": "a loopback address",  # hex
    "http://0x7f.1/": "a loopback address",
    "http://0177.0.0.1/": "a loopback address",  # octal
    "http://017700000001/": "a loopback address",
    "http://[::1]/": "a loopback address",
    "http://[::ffff:127.0.0.1]/": "a loopback address",  # IPv4-mapped
    "http://[::ffff:7f00:1]/": "a loopback address",
    "http://[64:ff9b::7f00:1]/": "a loopback address",  # NAT64
    "http://[2002:7f00:1::]/": "a loopback address",  # 6to4
    "http://10.0.0.8/": "a private address",
    "http://172.16.5.4/": "a private address",
    "http://192.168.0.1/": "a private address",
    "http://[::ffff:10.0.0.1]/": "a private address",
    "http://169.254.169.254/latest/meta-data": "a cloud metadata address",
    "http://0xa9fea9fe/": "a cloud metadata address",
    "http://[fd00:ec2::254]/": "a cloud metadata address",
    "http://100.100.100.200/": "a cloud metadata address",
    "http://169.254.1.1/": "a link-local address",
    "http://[fe80::1]/": "a link-local address",
    "http://[fe80::1%25eth0]/": "a link-local address",
    "http://[fd12:3456::1]/": "a unique-local address",
    "http://224.0.0.251/": "a multicast address",
    "http://[ff02::1]/": "a multicast address",
    "http://0.0.0.0/": "an unspecified address",
    "http://0/": "an unspecified address",
    "http://[::]/": "an unspecified address",
    "http://100.64.0.1/": "not a public address",  # shared address space (CGNAT)
    "http://127.0.0.1./": "a loopback address",
}
PUBLIC = [
    "https://hooks.example.com/roster",
    "http://93.184.215.14/",
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:93.184.215.14]/",
    "http://1.2.3/",  # 1.2.0.3
    "https://localhost.example.com/",
    "http://0x7g.1/",  # not a number: a name, resolved at delivery
    "http://08.1.2.3/",  # 08 is no octal number: a name too
]


@pytest.mark.parametrize(("url", "kind"), INSIDE.items())
def test_an_inside_address_is_refused_however_it_is_written(url: str, kind: str) -> None:
    refusal = url_refusal(url)
    assert refusal is not None
    assert refusal.endswith(f"is {kind}; webhooks are only sent to public addresses.")


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_and_names_pass_when_saved(url: str) -> None:
    assert url_refusal(url) is None


def test_the_legacy_ipv4_forms_read_as_resolvers_read_them() -> None:
    assert literal_address("2130706433") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("10.1") == ipaddress.IPv4Address("10.0.0.1")
    assert literal_address("1.2.65535") == ipaddress.IPv4Address("1.2.255.255")
    assert literal_address("1.2.65536") is None
    assert literal_address("256.1.1.1") is None
    assert literal_address("4294967296") is None
    assert literal_address("hooks.example") is None


def test_a_resolved_public_address_is_not_inside() -> None:
    assert inside(ipaddress.ip_address("8.8.8.8")) is None
    assert inside(ipaddress.ip_address("::ffff:8.8.8.8")) is None
