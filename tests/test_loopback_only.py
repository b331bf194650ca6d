"""Tests, benchmarks and scripts talk only to this machine.

Every address they name is read out of their text (IPv4 and bracketed IPv6
literals, URL hosts, `host=` arguments, `(host, port)` pairs) and must be a
loopback one: 127.0.0.0/8, `localhost` or `[::1]`. A string that names another
host without ever being dialled (an XML namespace, a value a test feeds to a
formatter) is allowed by file and host below, with the reason.
"""

import ipaddress
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "bench", "scripts", ".ci")
TEXT_SUFFIXES = {".py", ".sh", ".js", ".cfg", ".ini", ".toml", ".txt", ""}

# (file relative to the repository, host): why the host is named but never dialled.
NOT_DIALLED = {
    ("tests/test_spc_chart.py", "www.w3.org"): "the SVG XML namespace, used to read the chart's elements",
    ("tests/test_exports.py", "x"): "a spreadsheet formula the CSV export must neutralise",
    ("tests/test_bootstrap.py", "db.example"): "a URL the bootstrap parses, to read its parts",
    ("scripts/bootstrap.py", "host"): "the URL's expected shape, in an error message",
}
# This file's own examples of what the scanner must refuse are not scanned.
NOT_SCANNED = {"tests/test_loopback_only.py"}

IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.])")
IPV6 = re.compile(r"\[([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\]")
URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^/@\s\"'\\]*@)?(\[[^\]]*\]|[^/:\s\"'?#)>\\]+)")
HOST_ARGUMENT = re.compile(r"""\b(?:host|hostname|HOST)\s*[=:]\s*["']([^"'{}]+)["']""")
# ("db.example.org", 5432): a name with a dot, or localhost, then a port.
HOST_PORT_PAIR = re.compile(r"""\(\s*["']([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|localhost)["']\s*,\s*\d+\s*\)""")
HOST_FLAG = re.compile(r"""(?:--host|--bind|-h)[ =]["']?([A-Za-z0-9.:\[\]-]+)""")
PORT_SUFFIX = re.compile(r"^([^:\[\]]+):\d*$")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in {"localhost", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def named_hosts(text: str):
    """Every (line number, host) the text names as a place to connect to."""
    for number, line in enumerate(text.splitlines(), start=1):
        hosts = set()
        for pattern in (URL_HOST, HOST_ARGUMENT, HOST_PORT_PAIR):
            hosts.update(match.group(1) for match in pattern.finditer(line))
        hosts.update(match.group(1) for match in HOST_FLAG.finditer(line) if not match.group(1).startswith("$"))
        for match in IPV4.finditer(line):
            candidate = match.group(1)
            try:
                ipaddress.IPv4Address(candidate)
            except ValueError:
                continue  # a version number or a decimal, not an address
            hosts.add(candidate)
        for match in IPV6.finditer(line):
            try:
                ipaddress.IPv6Address(match.group(1))
            except ValueError:
                continue
            hosts.add(f"[{match.group(1)}]")
        for host in hosts:
            if "{" in host or host.startswith("$"):
                continue  # filled in at run time from settings or the environment, checked where it is set
            port = PORT_SUFFIX.match(host)
            yield number, port.group(1) if port else host


def scanned_files():
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
                yield path


def offending(path: Path, text: str):
    relative = path.relative_to(ROOT).as_posix()
    if relative in NOT_SCANNED:
        return
    for number, host in named_hosts(text):
        if not is_loopback(host) and (relative, host) not in NOT_DIALLED:
            yield f"{relative}:{number}: {host}"


def test_tests_benchmarks_and_scripts_name_only_loopback_addresses():
    problems = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems.extend(offending(path, text))
    assert problems == [], "addresses outside this machine:\n" + "\n".join(problems)


def test_every_allowance_is_still_needed():
    """An allowance whose host no longer appears in its file is removed, so the list cannot grow stale."""
    for (relative, host), _reason in NOT_DIALLED.items():
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert host in {found for _line, found in named_hosts(text)}, (relative, host)


@pytest.mark.parametrize(
    "line",
    [
        'environ = {"DATABASE_URL": "postgres://postgres@192.0.2.1:5432/nhs_joint"}',
        "socket.create_connection(('db.example.org', 5432))",
        'connect(host="10.1.2.3", port=5432)',
        "wrk -c 8 http://172.16.0.9:8000/",
        "redis-cli -h 192.168.1.20 ping",
        "curl http://[2001:db8::1]:8000/",
    ],
)
def test_the_scanner_refuses_other_addresses(line):
    path = ROOT / "tests" / "example.py"
    assert list(offending(path, line)), line


@pytest.mark.parametrize(
    "line",
    [
        "postgres://postgres@127.0.0.1:5432/nhs_joint",
        "http://localhost:8000/healthz",
        "redis-server --bind 127.0.0.1 -::1 --port 6379",
        "http://[::1]:8000/",
        'connect(host="127.0.0.2", port=1)',
        "nhsuk-frontend 10.6.1 goes with 0.10.2",
        'f"postgres://{db.user}@{db.host}:{db.port}/{name}"',
    ],
)
def test_the_scanner_accepts_loopback_and_what_is_not_an_address(line):
    path = ROOT / "tests" / "example.py"
    assert list(offending(path, line)) == [], line
