#!/usr/bin/env python3
"""Self-test of faultproxy.py: every fault mode really happens (a proxy that never faults would let the push
tests pass without testing anything), nothing happens without faults, and a seed repeats its faults.

    python3 tests/e2e/lib/test_faultproxy.py      (prints "faultproxy: N passed, M failed" last)
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "faultproxy.py")


class Backend:
    """A TCP server on 127.0.0.1 in a thread. mode "sink": reads until EOF, records the bytes, answers with
    the SHA-256 of what it got. mode "source": sends `payload` and closes. mode "http": reads HTTP requests
    with Content-Length bodies, records each (head, body), answers 200 with body "ok"."""

    def __init__(self, mode, payload=b""):
        self.mode = mode
        self.payload = payload
        self.received = []  # sink: bytes per connection; http: (head, body)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            if self.mode == "sink":
                got = bytearray()
                try:
                    while True:
                        d = c.recv(65536)
                        if not d:
                            break
                        got += d
                finally:
                    self.received.append(bytes(got))
                c.sendall(hashlib.sha256(got).hexdigest().encode())
            elif self.mode == "source":
                c.sendall(self.payload)
            elif self.mode == "http":
                f = c.makefile("rb")
                while True:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = f.readline()
                        if not line:
                            return
                        head += line
                    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    body = f.read(int(m.group(1))) if m else b""
                    self.received.append((head, body))
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            c.close()
            self.done.set()

    def close(self):
        self.sock.close()


class Proxy:
    def __init__(self, target_port, *args):
        self.dir = tempfile.mkdtemp(prefix="faultproxy-test-")
        self.logfile = os.path.join(self.dir, "log")
        self.proc = subprocess.Popen(
            [sys.executable, PROXY, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{target_port}",
             "--log", self.logfile, *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"faultproxy listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"the proxy did not start: {line!r}")
        self.port = int(m.group(1))

    def log(self):
        with open(self.logfile) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def fault_lines(proxy):
    out = []
    for line in proxy.log().splitlines():
        body = line.strip().split(None, 1)[1] if " " in line.strip() else ""
        if body.startswith("fault "):
            out.append(body)
    return out


def send_all(port, data, timeout=30):
    """Sends data, half-closes, reads the answer; returns (answer, error or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    answer = b""
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            answer += d
        return answer, None
    except OSError as e:
        return answer, e
    finally:
        s.close()


def receive_all(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        return got, None
    except OSError as e:
        return got, e
    finally:
        s.close()


PAYLOAD = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(1 << 15))  # 1 MiB


class FaultProxyTest(unittest.TestCase):
    def setUp(self):
        self.cleanup = []

    def tearDown(self):
        for f in reversed(self.cleanup):
            f()

    def backend(self, *a):
        b = Backend(*a)
        self.cleanup.append(b.close)
        return b

    def proxy(self, port, *a):
        p = Proxy(port, *a)
        self.cleanup.append(p.stop)
        return p

    def capture_dir(self):
        d = tempfile.mkdtemp(prefix="faultproxy-cap-")
        self.cleanup.append(lambda: shutil.rmtree(d, ignore_errors=True))
        return d

    def test_clean_passthrough(self):
        b = self.backend("sink")
        p = self.proxy(b.port)
        answer, err = send_all(p.port, PAYLOAD)
        self.assertIsNone(err)
        self.assertEqual(answer.decode(), hashlib.sha256(PAYLOAD).hexdigest())
        self.assertEqual(fault_lines(p), [])

    def test_flip_up(self):
        b = self.backend("sink")
        p = self.proxy(b.port, "--flip-rate", "1", "--chunk", "65536", "--direction", "up")
        answer, err = send_all(p.port, PAYLOAD)
        self.assertIsNone(err)
        got = b.received[0]
        self.assertEqual(len(got), len(PAYLOAD))
        diff = [i for i in range(len(got)) if got[i] != PAYLOAD[i]]
        self.assertEqual(len(diff), len(PAYLOAD) // 65536, "one flipped byte per block")
        for i in diff:
            self.assertEqual(bin(got[i] ^ PAYLOAD[i]).count("1"), 1, "one bit per flip")
        self.assertEqual(len(fault_lines(p)), len(diff))

    def test_flip_down(self):
        b = self.backend("source", PAYLOAD)
        p = self.proxy(b.port, "--flip-rate", "1", "--chunk", "131072", "--direction", "down")
        got, err = receive_all(p.port)
        self.assertIsNone(err)
        self.assertEqual(len(got), len(PAYLOAD))
        self.assertEqual(sum(1 for i in range(len(got)) if got[i] != PAYLOAD[i]), 8)

    def test_max_faults(self):
        b = self.backend("sink")
        p = self.proxy(b.port, "--flip-rate", "1", "--stall-rate", "1", "--stall-seconds", "0", "--chunk", "4096",
                       "--max-faults", "3", "--direction", "up")
        send_all(p.port, PAYLOAD)
        self.assertEqual(len([l for l in fault_lines(p) if "kind=stall" in l]), 3, "the limit is per kind")
        got = b.received[0]
        self.assertEqual(sum(1 for i in range(len(got)) if got[i] != PAYLOAD[i]), 3)

    def test_drop(self):
        b = self.backend("sink")
        p = self.proxy(b.port, "--drop-rate", "0.05", "--chunk", "16384", "--direction", "up", "--seed", "7")
        answer, err = send_all(p.port, PAYLOAD)
        self.assertTrue(err is not None or answer == b"", "the client saw the connection cut")
        b.done.wait(5)
        self.assertLess(len(b.received[0]), len(PAYLOAD), "the server got only part of the stream")
        self.assertEqual(PAYLOAD[:len(b.received[0])], b.received[0], "what got through is unchanged")
        self.assertEqual(len([l for l in fault_lines(p) if "kind=drop" in l]), 1)

    def test_stall(self):
        b = self.backend("sink")
        p = self.proxy(b.port, "--stall-rate", "1", "--stall-seconds", "0.4", "--chunk", "262144",
                       "--direction", "up")
        t0 = time.monotonic()
        answer, err = send_all(p.port, PAYLOAD)
        elapsed = time.monotonic() - t0
        self.assertIsNone(err)
        self.assertEqual(answer.decode(), hashlib.sha256(PAYLOAD).hexdigest(), "a stall changes no byte")
        self.assertGreaterEqual(elapsed, 4 * 0.4 - 0.05)
        self.assertEqual(len([l for l in fault_lines(p) if "kind=stall" in l]), 4)

    def test_seed_repeats(self):
        runs = []
        for seed in ("11", "11", "12"):
            b = self.backend("sink")
            p = self.proxy(b.port, "--flip-rate", "0.3", "--stall-rate", "0.1", "--stall-seconds", "0.01",
                           "--chunk", "8192", "--seed", seed)
            # Different write sizes: decisions must depend on stream offsets only.
            s = socket.create_connection(("127.0.0.1", p.port))
            step = 1000 if len(runs) == 0 else 30000
            for i in range(0, len(PAYLOAD), step):
                s.sendall(PAYLOAD[i:i + step])
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
            s.close()
            runs.append(([re.sub(r"^fault conn=\d+ ", "", l) for l in fault_lines(p)], b.received[0]))
        self.assertTrue(runs[0][0], "faults happened")
        self.assertEqual(runs[0], runs[1], "the same seed gives the same faults at the same offsets")
        self.assertNotEqual(runs[0][0], runs[2][0], "another seed gives other faults")

    def http_put(self, port, body, target="/?rest_route=/x/parts/0"):
        head = (f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        return head, head + body

    def test_tamper_put(self):
        b = self.backend("http")
        p = self.proxy(b.port, "--tamper-put", "2")
        s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        f = s.makefile("rb")
        bodies = [PAYLOAD[:100000], PAYLOAD[:200000], PAYLOAD[:300000]]
        for body in bodies:
            s.sendall(self.http_put(p.port, body)[1])
            self.assertTrue(f.readline().startswith(b"HTTP/1.1 200"))
            while f.readline() != b"\r\n":
                pass
            f.read(2)
        s.close()
        got = [r[1] for r in b.received]
        self.assertEqual(got[0], bodies[0])
        self.assertEqual(got[2], bodies[2])
        diff = [i for i in range(len(bodies[1])) if got[1][i] != bodies[1][i]]
        self.assertEqual(diff, [len(bodies[1]) // 2], "one byte in the middle of the second PUT's body")
        self.assertEqual(len(re.findall(r"kind=tamper offset=\d+ put=2", p.log())), 1)
        self.assertEqual(len(re.findall(r"response conn=1 n=\d status=200 method=PUT", p.log())), 3)

    def test_drop_after_put(self):
        b = self.backend("http")
        p = self.proxy(b.port, "--drop-after-put", "1")
        head, req = self.http_put(p.port, PAYLOAD[:500000])
        answer, err = send_all(p.port, req)
        b.done.wait(5)
        self.assertEqual(b.received[0][1], PAYLOAD[:500000], "the server got the whole request")
        self.assertEqual(answer, b"", "the client got no answer")
        self.assertIn("kind=drop-after-put", p.log())

    def test_swallow_put(self):
        b = self.backend("http")
        cap = self.capture_dir()
        p = self.proxy(b.port, "--capture", cap, "--swallow-put-from", "2")
        s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        f = s.makefile("rb")
        _, first = self.http_put(p.port, b"first")
        s.sendall(first)
        self.assertTrue(f.readline().startswith(b"HTTP/1.1 200"))
        while f.readline() != b"\r\n":
            pass
        f.read(2)
        _, second = self.http_put(p.port, PAYLOAD[:300000], target="/second")
        s.sendall(second)
        try:
            self.assertEqual(f.read(), b"", "no answer to a swallowed PUT")
        except ConnectionResetError:
            pass
        s.close()
        for _ in range(3):  # later PUTs, on new connections, are swallowed too
            answer, err = send_all(p.port, second)
            self.assertEqual(answer, b"")
        time.sleep(0.2)
        self.assertEqual([r[1] for r in b.received], [b"first"], "nothing of a swallowed PUT reached the server")
        with open(os.path.join(cap, "00002-PUT.http"), "rb") as fh:
            self.assertEqual(fh.read(), second)
        self.assertEqual(len(re.findall(r"kind=swallow", p.log())), 4)

    def test_capture(self):
        b = self.backend("http")
        cap = self.capture_dir()
        p = self.proxy(b.port, "--capture", cap, "--tamper-put", "1")
        s = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        f = s.makefile("rb")
        sent = []
        for body in (PAYLOAD[:70000], b"abc"):
            _, req = self.http_put(p.port, body)
            sent.append(req)
            s.sendall(req)
            f.readline()
            while f.readline() != b"\r\n":
                pass
            f.read(2)
        s.close()
        files = sorted(os.listdir(cap))
        self.assertEqual(files, ["00001-PUT.http", "00002-PUT.http"])
        for name, req in zip(files, sent):
            with open(os.path.join(cap, name), "rb") as fh:
                self.assertEqual(fh.read(), req, "captured as the client sent it (before tampering)")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"faultproxy: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
