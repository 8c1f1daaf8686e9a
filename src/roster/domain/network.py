"""Which network addresses a webhook may be sent to.

A webhook is a request Roster makes on an admin's say-so, from inside the network
it runs in. Pointed at loopback, a private range or a cloud's metadata service, it
would carry a signed body (and read answers) where no outsider should reach: so
destinations must be public addresses, unless the operator lifts the rule for local
development (`ROSTER_WEBHOOK_ALLOW_PRIVATE`). Pure functions: the adapter resolves
names and asks `inside` of every address it would connect to.
"""

import ipaddress
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: AWS, GCP, Azure, OpenStack (link-local), AWS over IPv6
# (unique-local), Alibaba (shared address space). Each is inside by its range too;
# named here so the refusal says what the address is.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ULA = ipaddress.ip_network("fc00::/7")
_DIGITS = {8: set("01234567"), 10: set("0123456789"), 16: set("0123456789abcdef")}


def inside(address: Address) -> str | None:
    """What kind of inside address this is ("a loopback address", …), or None for a
    public one. An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4) is
    judged by the IPv4 address it reaches."""
    address = _carried(address)
    if address in METADATA:
        return "a cloud metadata address"
    kinds = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (isinstance(address, ipaddress.IPv6Address) and address in _ULA, "a unique-local address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((kind for holds, kind in kinds if holds), None)


def _carried(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def literal_address(host: str) -> Address | None:
    """The address a URL's host names literally, or None for a name.

    Besides the usual forms it reads what resolvers and browsers also read as IPv4:
    one to four dot-separated parts in decimal, octal (leading 0) or hex (0x), the
    last part filling the remaining bytes ("2130706433", "0x7f.1", "0177.0.0.1").
    """
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone is no part
    except ValueError:
        return _legacy_ipv4(host)


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int | None:
    """One part of a legacy IPv4 address, as inet_aton reads it (plain digits only)."""
    base, digits = 10, part
    if part.startswith("0x"):
        base, digits = 16, part[2:]
    elif len(part) > 1 and part.startswith("0"):
        base, digits = 8, part[1:]
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    return int(digits, base)


def url_refusal(url: str) -> str | None:
    """Why a webhook may not be saved with this URL (a plain sentence), or None.

    Only an address written in the URL is judged here; a name is judged at every
    delivery, once resolved (it may resolve elsewhere by then).
    """
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return "it is not a valid address."
    if not host:
        return "it names no host."
    address = literal_address(host)
    kind = inside(address) if address is not None else None
    if kind is None:
        return None
    return f"{host} is {kind}; webhooks are only sent to public addresses."
