"""One lnpeerd process for the runner: found, started in its own directory on a free
127.0.0.1 port, asked for its id and `init` features, and stopped."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

import pyln.client

# Environment variable naming the lnpeerd binary to run.
LNPEERD_ENV = "LNPEERD"

# The node key the runner forces (`--dev-force-privkey`), in lnprototest's short form: tests
# that sign as the node ask `get_node_privkey()` for it, as with Core Lightning's runner.
NODE_PRIVKEY = "01"


def find_lnpeerd() -> Path:
    """`$LNPEERD`, else the newest `lnpeerd` in the cargo target directory (`$CARGO_TARGET_DIR`
    or the repository's `target/`), debug or release."""
    configured = os.environ.get(LNPEERD_ENV)
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"{LNPEERD_ENV}={configured} is not an executable file")
        return path
    repository = Path(__file__).resolve().parents[3]
    target_dirs = [repository / "target"]
    if os.environ.get("CARGO_TARGET_DIR"):
        target_dirs.insert(0, Path(os.environ["CARGO_TARGET_DIR"]))
    built = [
        target / profile / "lnpeerd"
        for target in target_dirs
        for profile in ("debug", "release")
        if os.access(target / profile / "lnpeerd", os.X_OK)
    ]
    if not built:
        raise RuntimeError(
            "lnpeerd not found: build it with `cargo build -p lnpeerd`, or set "
            f"{LNPEERD_ENV}=/path/to/lnpeerd (looked in {', '.join(map(str, target_dirs))})"
        )
    return max(built, key=lambda path: path.stat().st_mtime)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound and released; the node binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lnpeerd:
    """A started lnpeerd on regtest, in a fresh directory under `parent`."""

    def __init__(self, binary: Path, parent: str, flags: List[str], timeout: float):
        self.dir = tempfile.mkdtemp(prefix="lnpeerd-", dir=parent)
        self.port = free_port()
        self.timeout = timeout
        args = [
            str(binary),
            f"--lightning-dir={self.dir}",
            "--network=regtest",
            f"--bind-addr=127.0.0.1:{self.port}",
            "--developer",
            f"--dev-force-privkey={NODE_PRIVKEY.rjust(64, '0')}",
            "--log-level=io",
            # Absolute: a relative one is taken inside <dir>/regtest, not there yet at start.
            f"--log-file={os.path.join(self.dir, 'log')}",
        ] + flags
        self.command = " ".join(args)
        self.output_path = os.path.join(self.dir, "output")
        with open(self.output_path, "wb") as output:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
        self.rpc = pyln.client.LightningRpc(
            os.path.join(self.dir, "regtest", "lightning-rpc")
        )
        try:
            info = self._wait_ready()
        except Exception:
            self.stop()
            self.remove()
            raise
        self.id = bytes.fromhex(info["id"])
        self.init_features = bytes.fromhex(info["our_features"]["init"])

    def _wait_ready(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self.rpc.getinfo()
            except (OSError, ValueError, pyln.client.RpcError):
                pass
            code = self.proc.poll() if self.proc else None
            if code is not None:
                raise RuntimeError(
                    f"lnpeerd exited at start with status {code}: `{self.command}`\n"
                    f"{self.output()}{self.log()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"lnpeerd did not answer getinfo within {self.timeout} s: "
                    f"`{self.command}`\n{self.output()}{self.log()}"
                )
            time.sleep(0.02)

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """What the process printed (errors before its log was open)."""
        return _read(self.output_path)

    def log(self) -> str:
        return _read(os.path.join(self.dir, "log"))

    def stop(self) -> None:
        """Asks the node to stop, and kills it if it has not exited in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.rpc.stop()
            except (OSError, ValueError, pyln.client.RpcError):
                pass
            try:
                self.proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as file:
            return file.read()
    except OSError:
        return ""
