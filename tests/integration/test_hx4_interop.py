"""``natakanu-peer hx`` against the real npm hash-exchange 4.0.1, against itself, and hostile.

Every process here is real: our command line (``python -m natakanu_peer hx``) and
``hx4_peer.js``, the seed README's example with id/since/seen/close options, run by node on a
fresh ``npm install`` of the seed. They talk over pipes (each one's stdout is the other's
stdin) or over TCP on 127.0.0.1. Tests that need node skip when node or npm is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from natakanu_peer.protocol import limits
from natakanu_peer.protocol.hx4 import Frame, FrameType, Rpc, RpcType, encode_frame, encode_rpc
from natakanu_peer.protocol.wire import VarintFramer, encode_varint

HERE = Path(__file__).parent
REPO = HERE.parent.parent
DRIVER = HERE / "hx4_peer.js"
NPM_PACKAGES = ["hash-exchange@4.0.1", "through2@2", "concat-stream", "shasum"]
DEADLINE = 30.0  # seconds any one scenario may take before it counts as hung
PEER_TIMEOUT = "20"  # the programs' own idle timeout: longer than any healthy exchange

A_MESSAGES = ["hey yo", "WHATEVER", "beep"]
B_MESSAGES = ["beep", "boop", "hey yo"]
SINCE_A = ["hey yo", "WHATEVER", "beep", "zoom"]
SINCE_B = ["boop", "beep", "hey yo"]


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ------------------------------------------------------------------------- the programs


@pytest.fixture(scope="session")
def js_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``npm install`` of the seed and the example's helpers, once per session."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run the npm hash-exchange package")
    prefix = tmp_path_factory.mktemp("hx4-npm")
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), *NPM_PACKAGES],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    return prefix / "node_modules"


@dataclass(frozen=True)
class Program:
    """How to start one side: ours or the npm package's example."""

    kind: str
    base: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def command(self, mode: list[str], *args: str) -> list[str]:
        return [*self.base, *mode, "--timeout", PEER_TIMEOUT, *args]

    def listen(self) -> list[str]:
        return ["--listen", "127.0.0.1:0"] if self.kind == "ours" else ["--listen", "0"]

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.env}


Programs = Callable[[str], Program]


@pytest.fixture
def program(request: pytest.FixtureRequest) -> Programs:
    def make(kind: str) -> Program:
        if kind == "js":
            modules: Path = request.getfixturevalue("js_modules")
            return Program("js", ["node", str(DRIVER)], {"NODE_PATH": str(modules)})
        return Program("ours", [sys.executable, "-m", "natakanu_peer", "-v", "hx"])

    return make


# ------------------------------------------------------------------------------ running


@dataclass
class Outcome:
    """How one side ended, and what it printed on stderr."""

    code: int
    err: str

    @property
    def bodies(self) -> dict[str, str]:
        return dict(re.findall(r"^# BEGIN (\w+)\n(.*?)\n# END \1$", self.err, re.M | re.S))

    def lines(self, tag: str) -> list[str]:
        return re.findall(rf"^# {tag} (.*)$", self.err, re.M)

    @property
    def closed(self) -> bool:
        return "# CLOSE" in self.err.splitlines()


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    err: bytes = b""

    def finish(self, deadline: float) -> Outcome:
        try:
            _, rest = self.process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, rest = self.process.communicate()
            hung = f"{self.process.args!r} hung:\n{(self.err + rest).decode()}"
            raise AssertionError(hung) from None
        return Outcome(self.process.returncode, (self.err + (rest or b"")).decode())


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every process a test starts; none outlives it."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def over_stdio(
    processes: list[subprocess.Popen[bytes]],
    a: tuple[Program, list[str]],
    b: tuple[Program, list[str]],
) -> tuple[Outcome, Outcome]:
    """Run two sides, each one's stdout wired to the other's stdin."""
    a_to_b_read, a_to_b_write = os.pipe()
    b_to_a_read, b_to_a_write = os.pipe()
    deadline = time.monotonic() + DEADLINE
    with tempfile.TemporaryFile() as a_err, tempfile.TemporaryFile() as b_err:
        try:
            for (prog, args), stdin, stdout, err in (
                (a, b_to_a_read, a_to_b_write, a_err),
                (b, a_to_b_read, b_to_a_write, b_err),
            ):
                processes.append(
                    subprocess.Popen(
                        prog.command(["--stdio"], *args),
                        stdin=stdin,
                        stdout=stdout,
                        stderr=err,
                        env=prog.environment(),
                        cwd=REPO,
                    )
                )
        finally:
            for fd in (a_to_b_read, a_to_b_write, b_to_a_read, b_to_a_write):
                os.close(fd)
        outcomes = []
        for process, err in zip(processes[-2:], (a_err, b_err), strict=True):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            err.seek(0)
            outcomes.append(Outcome(process.returncode, err.read().decode()))
    for outcome, process in zip(outcomes, processes[-2:], strict=True):
        assert outcome.code != -9, f"{process.args!r} hung:\n{outcome.err}"
    return outcomes[0], outcomes[1]


def start(
    processes: list[subprocess.Popen[bytes]], prog: Program, mode: list[str], args: list[str]
) -> Running:
    process = subprocess.Popen(
        prog.command(mode, *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=prog.environment(),
        cwd=REPO,
    )
    processes.append(process)
    return Running(process)


def listening_port(running: Running, deadline: float) -> int:
    """Wait (on the process's own words, not a sleep) until it says where it listens."""
    stream = running.process.stderr
    assert stream is not None
    while (match := re.search(rb"# LISTENING [^\n]*:(\d+)\n", running.err)) is None:
        left = deadline - time.monotonic()
        assert left > 0, f"never said where it listens:\n{running.err.decode()}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"exited before listening:\n{running.err.decode()}"
            running.err += chunk
    return int(match.group(1))


def over_tcp(
    processes: list[subprocess.Popen[bytes]],
    listener: tuple[Program, list[str]],
    dialer: tuple[Program, list[str]],
) -> tuple[Outcome, Outcome]:
    deadline = time.monotonic() + DEADLINE
    server = start(processes, listener[0], listener[0].listen(), listener[1])
    port = listening_port(server, deadline)
    client = start(processes, dialer[0], ["--connect", f"127.0.0.1:{port}"], dialer[1])
    return server.finish(deadline), client.finish(deadline)


# ------------------------------------------------------------------------ the scenarios

INTEROP = pytest.mark.interop  # needs node and the npm package
PAIRS = [
    pytest.param("ours", "js", marks=INTEROP, id="ours-js"),
    pytest.param("js", "ours", marks=INTEROP, id="js-ours"),
    pytest.param("ours", "ours", id="ours-ours"),
]
PEERS = [pytest.param("js", marks=INTEROP), "ours"]
README_A = ["--id", "A", "--seen", "--close", *A_MESSAGES]
README_B = ["--id", "B", "--seen", "--close", *B_MESSAGES]


def assert_readme_outcome(a: Outcome, b: Outcome) -> None:
    """What the seed README promises, plus ids, acknowledgements and a clean close."""
    assert (a.code, b.code) == (0, 0), f"A:\n{a.err}\nB:\n{b.err}"
    assert a.bodies == {sha1("boop"): "boop"}
    assert b.bodies == {sha1("WHATEVER"): "WHATEVER"}
    assert (a.lines("ID"), b.lines("ID")) == (["B"], ["A"])
    assert (a.lines("SEEN"), b.lines("SEEN")) == (["1"], ["1"])
    assert a.closed and b.closed


@pytest.mark.parametrize(("kind_a", "kind_b"), PAIRS)
def test_the_readme_scenario_over_pipes_trades_bodies_ids_acknowledgements_and_close(
    program: Programs, processes: list[subprocess.Popen[bytes]], kind_a: str, kind_b: str
) -> None:
    a, b = over_stdio(processes, (program(kind_a), README_A), (program(kind_b), README_B))
    assert_readme_outcome(a, b)


@pytest.mark.parametrize(("kind_a", "kind_b"), PAIRS)
def test_the_readme_scenario_over_tcp_works_whichever_side_listens(
    program: Programs, processes: list[subprocess.Popen[bytes]], kind_a: str, kind_b: str
) -> None:
    a, b = over_tcp(processes, (program(kind_a), README_A), (program(kind_b), README_B))
    assert_readme_outcome(a, b)


@pytest.mark.parametrize(("kind_a", "kind_b"), PAIRS)
def test_since_makes_each_side_serve_only_what_comes_after_the_peers_position(
    program: Programs, processes: list[subprocess.Popen[bytes]], kind_a: str, kind_b: str
) -> None:
    a, b = over_stdio(
        processes,
        (program(kind_a), ["--since", "1", "--close", *SINCE_A]),
        (program(kind_b), ["--since", "2", "--close", *SINCE_B]),
    )
    assert (a.code, b.code) == (0, 0), f"A:\n{a.err}\nB:\n{b.err}"
    assert (a.lines("SINCE"), b.lines("SINCE")) == (["2"], ["1"])
    assert a.bodies == {sha1("hey yo"): "hey yo"}
    assert b.bodies == {sha1("zoom"): "zoom"}
    assert a.closed and b.closed


@pytest.mark.parametrize("kind", PEERS)
def test_we_wait_for_the_peers_request_before_closing_even_with_nothing_to_fetch(
    program: Programs, processes: list[subprocess.Popen[bytes]], kind: str
) -> None:
    # We lack nothing, so the seed's own policy would close at once and the peer, which
    # ignores every RPC after a CLOSE, would never get "b". (Which side closes first then
    # depends on timing; a seed peer closing second drops its CLOSE, see the test below.)
    ours, peer = over_stdio(
        processes,
        (program("ours"), ["--close", "a", "b"]),
        (program(kind), ["--close", "--seen", "a"]),
    )
    assert (ours.code, peer.code) == (0, 0), f"ours:\n{ours.err}\npeer:\n{peer.err}"
    assert peer.bodies == {sha1("b"): "b"}
    assert ours.lines("SEEN") == ["1"]
    assert ours.closed and peer.closed


@pytest.mark.interop
def test_our_requests_beyond_the_in_flight_bound_still_all_arrive_from_the_seed(
    program: Programs, processes: list[subprocess.Popen[bytes]]
) -> None:
    many = [f"message {i}" for i in range(limits.MAX_REQUESTS_IN_FLIGHT + 100)]
    ours, peer = over_stdio(
        processes,
        (program("ours"), ["--close", "--seen"]),
        (program("js"), ["--close", *many]),
    )
    assert (ours.code, peer.code) == (0, 0), f"ours:\n{ours.err[-2000:]}\npeer:\n{peer.err}"
    assert ours.bodies == {sha1(m): m for m in many}
    assert len(peer.lines("SEEN")) == len(many)


def test_control_characters_from_the_peer_are_shown_escaped_not_sent_to_the_terminal(
    program: Programs, processes: list[subprocess.Popen[bytes]]
) -> None:
    message = "red \x1b[31m alert\nsecond\tline"
    sender, receiver = over_stdio(
        processes,
        (program("ours"), ["--close", "--id", "two\nlines", message]),
        (program("ours"), ["--close"]),
    )
    assert (sender.code, receiver.code) == (0, 0), receiver.err
    assert receiver.bodies == {sha1(message): "red \\x1b[31m alert\nsecond\tline"}
    assert receiver.lines("ID") == ["two\\x0alines"]
    assert "\x1b" not in receiver.err


def test_the_end_of_the_stream_after_our_close_counts_as_the_close_the_seed_drops(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    # Scripted like a seed peer closing second: it provides nothing, asks nothing of our
    # list, and once it has our CLOSE it ends its output without a CLOSE of its own.
    script = rpc_stream_opening(Rpc(RpcType.AVAILABLE)) + rpc_frame(Rpc(RpcType.REQUEST))
    process = our_endpoint(processes, "-v", "--stdio", "--close", "mine")
    _, err = process.communicate(script, timeout=DEADLINE)
    assert process.returncode == 0, err.decode()
    assert "taken as its CLOSE" in err.decode()
    assert "# CLOSE" in err.decode().splitlines()


# --------------------------------------------------------------------- hostile peers


def our_endpoint(processes: list[subprocess.Popen[bytes]], *args: str) -> subprocess.Popen[bytes]:
    verbose = ["-v"] if args[0] == "-v" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "natakanu_peer", *verbose, "hx", *args[len(verbose) :]],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    processes.append(process)
    return process


def ended_with_stdin_open(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait for the end while its input stays open, so the end of input cannot be the cause."""
    assert process.stdin is not None and process.stderr is not None
    try:
        code = process.wait(timeout=DEADLINE)
    finally:
        process.stdin.close()
    return code, process.stderr.read().decode()


def rpc_stream_opening(rpc: Rpc | None = None) -> bytes:
    """The peer's first frame: it opens (names) its RPC stream."""
    body = encode_rpc(rpc or Rpc(RpcType.AVAILABLE, (sha1("x"),)))
    return VarintFramer.frame(encode_frame(Frame(1, FrameType.DATA, "0", body)))


def rpc_frame(rpc: Rpc) -> bytes:
    return VarintFramer.frame(encode_frame(Frame(1, FrameType.DATA, None, encode_rpc(rpc))))


HOSTILE = {
    "garbage": b"\x05\xff\xff\xff\xff\xff",
    "an oversized frame": encode_varint(1 << 40),
    "a content stream it never announced": rpc_stream_opening()
    + VarintFramer.frame(encode_frame(Frame(2, FrameType.DATA, "2", b"surprise"))),
}
REASONS = {
    "garbage": "broke the protocol",
    "an oversized frame": "exceeds the limit",
    "a content stream it never announced": "never announced",
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_a_hostile_peer_is_cut_off_at_once_with_a_reason(
    processes: list[subprocess.Popen[bytes]], attack: str
) -> None:
    # The idle timeout is far away: only the protocol check can end the run this soon.
    process = our_endpoint(processes, "--stdio", "--timeout", "60", "mine")
    started = time.monotonic()
    assert process.stdin is not None
    process.stdin.write(HOSTILE[attack])
    process.stdin.flush()
    code, err = ended_with_stdin_open(process)
    assert code == 1, err
    assert REASONS[attack] in err
    assert time.monotonic() - started < 30


def test_a_hostile_peer_over_tcp_is_cut_off_with_a_reason(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + DEADLINE
    server = start(
        processes,
        Program("ours", [sys.executable, "-m", "natakanu_peer", "hx"]),
        ["--listen", "127.0.0.1:0"],
        ["mine"],
    )
    port = listening_port(server, deadline)
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as peer:
        peer.sendall(HOSTILE["garbage"])
        outcome = server.finish(deadline)
    assert outcome.code == 1
    assert "broke the protocol" in outcome.err


def test_a_silent_peer_runs_into_the_idle_timeout(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    process = our_endpoint(processes, "--stdio", "--timeout", "0.3", "mine")
    code, err = ended_with_stdin_open(process)
    assert code == 3
    assert "no word from the peer for 0.3 seconds" in err


def test_a_peer_that_hangs_up_before_closing_is_a_lost_connection(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    process = our_endpoint(processes, "--stdio", "--close", "mine")
    _, err = process.communicate(rpc_stream_opening(), timeout=DEADLINE)
    assert process.returncode == 4
    assert "hung up before the exchange was closed" in err.decode()


def test_nobody_calling_a_listener_runs_into_the_timeout(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    process = our_endpoint(processes, "--listen", "127.0.0.1:0", "--timeout", "0.3")
    _, err = process.communicate(timeout=DEADLINE)
    assert process.returncode == 3
    assert "no peer within 0.3 seconds" in err.decode()
