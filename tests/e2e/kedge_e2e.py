"""Helpers for the Python end-to-end tests.

Starts a real `kedge cloud` on a free loopback port in a fresh temporary
directory, and stops it by PID. Every process started here and the
temporary directory are cleaned up when the test exits, however it exits
(normal end, exception, SIGTERM or SIGINT from ctest); the cloud also gets
SIGKILL from the kernel if the test process itself dies
(PR_SET_PDEATHSIG), so no cloud outlives its test.

Checks count failures like lib.sh's `fail`, so one run reports every
failure, and `finish()` exits 1 if there were any:

    from kedge_e2e import Cloud, check, check_eq, finish
    cloud = Cloud().start()
    check_eq("the answer", 6 * 7, 42)
    finish()
"""

import atexit
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

KEDGE_SRC = os.environ.get(
    "KEDGE_SRC",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
KEDGE_BIN = os.environ.get("KEDGE_BIN",
                           os.path.join(KEDGE_SRC, "build", "kedge"))

HUB_RE = re.compile(r"kedge cloud hub: (https://[^ ]+):([0-9]+) ")
READY_RE = re.compile(
    r"kedge cloud ready: (https://[^ ]+):([0-9]+) \(kubeconfig ([^)]+)\)")

_PROCS = []  # subprocess.Popen objects started here
_TMPDIRS = []
FAILS = 0
_NAME = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "test"


def _set_pdeathsig():
    """In the child: get SIGKILL when the parent (the test) dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _cleanup():
    for p in _PROCS:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in _PROCS:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    _PROCS.clear()
    if not os.environ.get("KEEP_E2E_TMP"):
        for d in _TMPDIRS:
            shutil.rmtree(d, ignore_errors=True)
    else:
        for d in _TMPDIRS:
            print("kept %s" % d, file=sys.stderr)
    _TMPDIRS.clear()


def _on_signal(signum, _frame):
    # Unwind through try/finally and atexit instead of dying on the spot.
    raise SystemExit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)


def tmpdir():
    """A fresh temporary directory, removed at exit."""
    d = tempfile.mkdtemp(prefix="kedge-e2e-py.")
    _TMPDIRS.append(d)
    return d


def spawn(argv, **kw):
    """Starts a helper process that is killed at exit (and if we die)."""
    p = subprocess.Popen(argv, preexec_fn=_set_pdeathsig, **kw)
    _PROCS.append(p)
    return p


class CloudStartError(Exception):
    pass


class Cloud:
    """One `kedge cloud` process on a data directory.

    start() waits for the ready line and sets url, port, kubeconfig and
    pid; stop() sends a signal by PID and returns the exit status; the
    same object can be started again on the same data directory.
    """

    def __init__(self, data_dir=None, args=(), port=0):
        self.data_dir = data_dir or os.path.join(tmpdir(), "cloud")
        self.args = list(args)
        self.port = port
        self.hub_port = 0
        self.hub_url = None
        self.proc = None
        self.url = None
        self.kubeconfig = None
        self.starts = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def log_path(self):
        return "%s.%d.log" % (self.data_dir, self.starts)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self, timeout=20):
        self.starts += 1
        out_path = "%s.%d.out" % (self.data_dir, self.starts)
        argv = [KEDGE_BIN, "cloud", "--data-dir", self.data_dir,
                "--secure-port", str(self.port), "--hub-port", str(self.hub_port),
                "--db-sync", "normal"]
        argv += self.args
        with open(out_path, "wb") as out, open(self.log_path, "wb") as err:
            self.proc = spawn(argv, stdout=out, stderr=err,
                              stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(out_path, errors="replace") as f:
                text = f.read()
            m = READY_RE.search(text)
            if m:
                h = HUB_RE.search(text)
                if h:
                    self.hub_url = "%s:%s" % (h.group(1), h.group(2))
                    self.hub_port = int(h.group(2))
                self.url = "%s:%s" % (m.group(1), m.group(2))
                self.port = int(m.group(2))  # a restart reuses the port
                self.kubeconfig = m.group(3)
                return self
            if self.proc.poll() is not None:
                raise CloudStartError(
                    "kedge cloud exited early (status %s):\n%s"
                    % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise CloudStartError("kedge cloud did not become ready in %ss:\n%s"
                              % (timeout, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Sends sig to the cloud's PID, waits, returns its exit status
        (negative: killed by that signal)."""
        if self.proc is None:
            return None
        p = self.proc
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                fail("kedge cloud (pid %d) ignored signal %d for %ss"
                     % (p.pid, sig, timeout))
        if p in _PROCS:
            _PROCS.remove(p)
        self.proc = None
        return p.returncode

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        return self.start()


# --- checks -----------------------------------------------------------------

def fail(msg):
    global FAILS
    FAILS += 1
    print("FAIL: %s" % msg, file=sys.stderr, flush=True)


def check(what, cond, detail=""):
    if not cond:
        fail("%s%s" % (what, (": " + detail) if detail else ""))
    return bool(cond)


def check_eq(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))
        return False
    return True


def check_match(what, text, regex):
    if text is None or not re.search(regex, text):
        fail("%s: %r does not match /%s/" % (what, text, regex))
        return False
    return True


def section(name):
    """Runs a block of checks; an exception fails it and the run goes on:

        with section("configmaps"):
            ...
    """
    return _Section(name)


class _Section:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print("--- %s" % self.name, flush=True)
        return self

    def __exit__(self, typ, val, tb):
        if typ is None:
            return False
        if issubclass(typ, (SystemExit, KeyboardInterrupt)):
            return False
        fail("%s: unexpected %s: %s\n%s" % (
            self.name, typ.__name__, val,
            "".join(traceback.format_tb(tb)[-3:])))
        return True


def finish():
    """Reports and exits: 1 if any check failed."""
    if FAILS:
        print("%s: %d failure(s)" % (_NAME, FAILS), file=sys.stderr)
        sys.exit(1)
    print("%s: ok" % _NAME)
    sys.exit(0)
