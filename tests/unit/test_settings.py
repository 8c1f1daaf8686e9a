"""The address settings: where `roster serve` listens, and the links that follow it."""

from roster.config import Settings


def test_links_point_where_serve_listens_unless_a_public_url_is_set() -> None:
    assert Settings(port=8123).public_url == "http://127.0.0.1:8123"
    assert Settings(host="0.0.0.0", port=9000).public_url == "http://127.0.0.1:9000"  # noqa: S104
    assert Settings(host="::1").public_url == "http://[::1]:8000"
    behind_a_proxy = Settings(port=8123, public_url="https://people.example.com")
    assert behind_a_proxy.public_url == "https://people.example.com"
