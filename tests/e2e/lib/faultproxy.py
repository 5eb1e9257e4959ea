#!/usr/bin/env python3
"""A fault-injecting TCP proxy for the push tests: it sits between the source (client) and the destination's
web server (target) and forwards raw bytes, breaking them on purpose now and then.

    faultproxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT [options]

Random faults. Each direction of each connection (up: client to server, down: server to client) is cut into
blocks of --chunk bytes by stream offset; for every block, independently, with the given probability:
  --drop-rate P                   the connection is cut (RST to both sides) at a random byte of the block
  --stall-rate P --stall-seconds S  that direction pauses S seconds at a random byte of the block
  --flip-rate P                   one random bit of a random byte of the block is flipped
  --direction up|down|both        which directions get random faults (default both)
  --max-faults N                  inject at most N random faults of each kind (so a test always ends)
  --chunk BYTES                   the block size (default 16384); faults are proportional to bytes, as on a
                                  lossy link, so small requests are hit rarely unless the blocks are small
  --seed N                        decisions come from a generator seeded with (N, connection number,
                                  direction) and depend on stream offsets only, never on how reads happen to
                                  be split: the same seed and the same traffic give the same faults

Targeted faults (the proxy follows HTTP/1.1 framing on both directions; it never changes the framing itself):
  --tamper-put N                  flip one byte in the middle of the body of the N-th PUT request (counted
                                  over all connections, from 1); repeatable
  --drop-after-put N              let the N-th PUT through whole, then cut the connection when the server
                                  starts its final answer: the server did the work, the client never hears
                                  of it (a lost acknowledgement); repeatable
  --swallow-put-from N            take in the N-th PUT and every later one whole (see --capture), forward
                                  nothing of them, then cut the connection: the client keeps retrying
                                  while the test does what it wants with the captured request
  --capture DIR                   write every request as the client sent it (before any fault) to
                                  DIR/NNNNN-METHOD.http

--log FILE gets one line per event: "open conn=1", "request conn=1 n=1 method=PUT target=/... body=123",
"response conn=1 n=1 status=200 method=PUT target=/...", "fault conn=1 dir=up kind=flip offset=123 ...",
"close conn=1 up=... down=...". When it is listening the proxy prints "faultproxy listening on HOST:PORT" on
stdout (PORT 0 asks for a free port). It runs until killed. Python 3 standard library only.
"""
import argparse
import asyncio
import os
import random
import signal
import socket
import struct
import sys
import time


def host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def rate(text):
    v = float(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return v


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.t0 = time.monotonic()

    def __call__(self, line):
        if self.f:
            self.f.write(f"{time.monotonic() - self.t0:9.3f} {line}\n")


class HttpFollower:
    """Follows HTTP/1.1 message framing over one direction of a connection, fed the original bytes in order.
    Calls back with stream offsets: on_head(kind, first_line, headers, head_start, body_start),
    on_body_known(length) once Content-Length is known, on_end(end_offset). Gives up quietly on anything that
    is not HTTP (the proxy then just forwards)."""

    MAX_HEAD = 65536

    def __init__(self, requests, on_head, on_end):
        self.requests = requests  # True: parse requests (up); False: responses (down)
        self.on_head = on_head
        self.on_end = on_end
        self.state = "head"
        self.buf = bytearray()
        self.head_start = 0
        self.remaining = 0
        self.offset = 0  # stream offset of the next byte fed
        self.dead = False
        self.last_status = None

    def feed(self, data):
        i = 0
        n = len(data)
        while i < n and not self.dead:
            pos = self.offset + i
            if self.state == "head":
                if not self.buf:
                    self.head_start = pos
                j = data.find(b"\n", i)
                if j < 0:
                    self.buf += data[i:]
                    i = n
                else:
                    self.buf += data[i:j + 1]
                    i = j + 1
                    if len(self.buf) > self.MAX_HEAD:
                        self.dead = True
                    elif self.buf.endswith(b"\r\n\r\n") or self.buf.endswith(b"\n\n"):
                        self._head_done(self.offset + i)
                    elif self.buf in (b"\r\n", b"\n"):
                        self.buf.clear()  # stray empty line between messages
            elif self.state == "body":
                take = min(self.remaining, n - i)
                i += take
                self.remaining -= take
                if self.remaining == 0:
                    self._end(self.offset + i)
            elif self.state == "chunk_size":
                j = data.find(b"\n", i)
                if j < 0:
                    self.buf += data[i:]
                    i = n
                else:
                    self.buf += data[i:j + 1]
                    i = j + 1
                    try:
                        size = int(bytes(self.buf).split(b";")[0].strip(), 16)
                    except ValueError:
                        self.dead = True
                        break
                    self.buf.clear()
                    if size == 0:
                        self.state = "trailer"
                    else:
                        self.state = "chunk_data"
                        self.remaining = size + 2  # data and its CRLF
            elif self.state == "chunk_data":
                take = min(self.remaining, n - i)
                i += take
                self.remaining -= take
                if self.remaining == 0:
                    self.state = "chunk_size"
            elif self.state == "trailer":
                j = data.find(b"\n", i)
                if j < 0:
                    self.buf += data[i:]
                    i = n
                else:
                    self.buf += data[i:j + 1]
                    i = j + 1
                    if self.buf in (b"\r\n", b"\n"):
                        self._end(self.offset + i)
                    self.buf.clear()
            elif self.state == "until_close":
                i = n
        self.offset += n

    def _head_done(self, body_start):
        text = bytes(self.buf).decode("latin-1")
        self.buf.clear()
        lines = text.split("\n")
        first = lines[0].strip()
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        self.on_head(first, headers, self.head_start, body_start)
        te = headers.get("transfer-encoding", "").lower()
        cl = headers.get("content-length")
        bodyless = False
        if not self.requests:
            parts = first.split(" ")
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            self.last_status = status
            bodyless = 100 <= status < 200 or status in (204, 304)
        if bodyless:
            self._end(body_start)
        elif "chunked" in te:
            self.state = "chunk_size"
        elif cl is not None and cl.isdigit():
            self.remaining = int(cl)
            if self.remaining == 0:
                self._end(body_start)
            else:
                self.state = "body"
        elif self.requests:
            self._end(body_start)  # a request without a body
        else:
            self.state = "until_close"

    def _end(self, end):
        self.state = "head"
        self.buf.clear()
        self.on_end(end)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.log = Log(args.log)
        self.conn_count = 0
        self.put_count = 0
        self.request_count = 0
        self.faults = {"drop": 0, "stall": 0, "flip": 0}
        if args.capture:
            os.makedirs(args.capture, exist_ok=True)

    async def handle(self, creader, cwriter):
        self.conn_count += 1
        cid = self.conn_count
        try:
            sreader, swriter = await asyncio.open_connection(*self.args.target)
        except OSError as e:
            self.log(f"open conn={cid} error={e.__class__.__name__}")
            abort(cwriter)
            return
        self.log(f"open conn={cid}")
        conn = Connection(self, cid, cwriter, swriter)
        up = asyncio.ensure_future(conn.pump("up", creader, swriter))
        down = asyncio.ensure_future(conn.pump("down", sreader, cwriter))
        try:
            await asyncio.wait([up, down], return_when=asyncio.ALL_COMPLETED)
        except asyncio.CancelledError:  # the proxy is stopping
            up.cancel()
            down.cancel()
            conn._drop()
            return
        self.log(f"close conn={cid} up={conn.counts['up']} down={conn.counts['down']}")


def abort(writer):
    try:
        sock = writer.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class Connection:
    def __init__(self, proxy, cid, cwriter, swriter):
        self.p = proxy
        self.args = proxy.args
        self.cid = cid
        self.writers = (cwriter, swriter)
        self.dropped = False
        self.counts = {"up": 0, "down": 0}
        self.pending = {"up": [], "down": []}  # sorted [(offset, kind, extra)]
        self.rng = {d: random.Random(f"{self.args.seed}/{cid}/{d}") for d in ("up", "down")}
        self.next_block = {"up": 0, "down": 0}
        self.requests = []  # (n, method, target) awaiting their final response
        self.captures = []  # [file, start offset, end offset or None] of requests being written
        self.final_responses = 0
        self.drop_after = None  # drop once more final responses than this have begun
        self.swallow_at = None  # stream offset (up) from which nothing is forwarded
        self.swallow_done = False
        self.cur_put = None
        self.followers = {
            "up": HttpFollower(True, self._request_head, self._request_end),
            "down": HttpFollower(False, self._response_head, self._response_end),
        }

    # --- HTTP events ---------------------------------------------------------------------------
    def _request_head(self, first, headers, head_start, body_start):
        parts = first.split(" ")
        method = parts[0] if parts else "?"
        target = parts[1] if len(parts) > 1 else "?"
        self.p.request_count += 1
        n = self.p.request_count
        length = headers.get("content-length", "chunked" if "chunked" in headers.get("transfer-encoding", "") else "0")
        self.p.log(f"request conn={self.cid} n={n} method={method} target={target} body={length}")
        self.requests.append((n, method, target))
        self.cur_put = None
        if method == "PUT":
            self.p.put_count += 1
            k = self.p.put_count
            self.cur_put = k
            if k in self.args.tamper_put:
                if length.isdigit() and int(length) > 0:
                    at = body_start + int(length) // 2
                else:
                    at = body_start + 8  # chunked: a byte of the first chunk's data (past its size line)
                self._add("up", at, "tamper", f"put={k}")
            if self.args.swallow_put_from and k >= self.args.swallow_put_from and self.swallow_at is None:
                self.p.log(f"fault conn={self.cid} dir=up kind=swallow put={k} target={target}")
                self.swallow_at = head_start
        if self.args.capture:
            name = os.path.join(self.args.capture, f"{n:05d}-{''.join(c for c in method if c.isalpha())}.http")
            self.captures.append([open(name, "wb"), head_start, None])

    def _request_end(self, end):
        if self.captures and self.captures[-1][2] is None:
            self.captures[-1][2] = end
        if self.swallow_at is not None:
            self.swallow_done = True
        if self.cur_put is not None and self.cur_put in self.args.drop_after_put:
            self.p.log(f"fault conn={self.cid} dir=down kind=drop-after-put put={self.cur_put} when=response")
            self.drop_after = self.final_responses
        self.cur_put = None

    def _response_head(self, first, headers, head_start, body_start):
        parts = first.split(" ")
        status = parts[1] if len(parts) > 1 else "?"
        if status.startswith("1"):
            return
        self.final_responses += 1
        n, method, target = self.requests.pop(0) if self.requests else (0, "?", "?")
        self.p.log(f"response conn={self.cid} n={n} status={status} method={method} target={target}")

    def _response_end(self, end):
        pass

    # --- faults ----------------------------------------------------------------------------------
    def _add(self, d, offset, kind, extra=""):
        self.pending[d].append((offset, kind, extra))
        self.pending[d].sort(key=lambda f: f[0])

    def _plan(self, d, end):
        a = self.args
        size = a.chunk
        rng = self.rng[d]
        while self.next_block[d] * size < end:
            base = self.next_block[d] * size
            self.next_block[d] += 1
            for kind, p in (("drop", a.drop_rate), ("stall", a.stall_rate), ("flip", a.flip_rate)):
                # Always draw the same numbers, whatever the rates and limits, so that decisions depend only on
                # the seed, the connection number, the direction and the stream offset.
                r = rng.random()
                at = base + rng.randrange(size)
                bit = rng.randrange(8)
                if r < p and a.direction in (d, "both"):
                    self._add(d, at, kind, f"bit={bit}")

    async def pump(self, d, reader, writer):
        follower = self.followers[d]
        try:
            while not self.dropped:
                data = await reader.read(65536)
                if not data:
                    break
                start = self.counts[d]
                end = start + len(data)
                # Follow HTTP on the original bytes (faults below never confuse the framing).
                follower.feed(data)
                if d == "up":
                    self._write_captures(data, start, end)
                if d == "down" and self.drop_after is not None and self.final_responses > self.drop_after:
                    self.p.log(f"drop conn={self.cid} dir=down kind=drop-after-put offset={start}")
                    self._drop()
                    break
                if d == "up" and self.swallow_at is not None:
                    keep = max(0, self.swallow_at - start)
                    if keep:
                        writer.write(data[:keep])
                        await writer.drain()
                    self.counts[d] = end
                    if self.swallow_done:
                        self._drop()
                        break
                    continue
                self._plan(d, end)
                buf = bytearray(data)
                sent = 0  # bytes of buf already written
                while self.pending[d] and self.pending[d][0][0] < end:
                    at, kind, extra = self.pending[d].pop(0)
                    if at < start:
                        continue
                    rel = at - start
                    if kind in self.p.faults:
                        if self.p.faults[kind] >= self.args.max_faults:
                            continue
                        self.p.faults[kind] += 1
                    self.p.log(f"fault conn={self.cid} dir={d} kind={kind} offset={at} {extra}".rstrip())
                    if kind in ("flip", "tamper"):
                        bit = int(extra[4:]) if extra.startswith("bit=") else 5
                        buf[rel] ^= 1 << bit
                    elif kind == "stall":
                        writer.write(bytes(buf[sent:rel]))
                        await writer.drain()
                        sent = rel
                        await asyncio.sleep(self.args.stall_seconds)
                    elif kind == "drop":
                        writer.write(bytes(buf[sent:rel]))
                        await writer.drain()
                        self.counts[d] = at
                        self._drop()
                        return
                writer.write(bytes(buf[sent:]))
                await writer.drain()
                self.counts[d] = end
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self._drop(quiet=True)
        finally:
            if d == "up":
                for c in self.captures:
                    c[0].close()
                self.captures = []
        if not self.dropped:
            try:
                if writer.can_write_eof():
                    writer.write_eof()
            except (OSError, RuntimeError):
                self._drop(quiet=True)

    def _write_captures(self, data, start, end):
        keep = []
        for c in self.captures:
            f, a, b = c
            lo = max(a, start)
            hi = end if b is None else min(b, end)
            if hi > lo:
                f.write(data[lo - start:hi - start])
            if b is not None and b <= end:
                f.close()
            else:
                keep.append(c)
        self.captures = keep

    def _drop(self, quiet=False):
        if self.dropped:
            return
        self.dropped = True
        for w in self.writers:
            abort(w)


async def main_async(args):
    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.handle, args.listen[0], args.listen[1], reuse_address=True)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"faultproxy listening on {host}:{port}", flush=True)
    proxy.log(f"listening {host}:{port} target={args.target[0]}:{args.target[1]} seed={args.seed}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=host_port, required=True)
    ap.add_argument("--target", type=host_port, required=True)
    ap.add_argument("--drop-rate", type=rate, default=0.0)
    ap.add_argument("--stall-rate", type=rate, default=0.0)
    ap.add_argument("--stall-seconds", type=float, default=2.0)
    ap.add_argument("--flip-rate", type=rate, default=0.0)
    ap.add_argument("--direction", choices=("up", "down", "both"), default="both")
    ap.add_argument("--max-faults", type=int, default=1 << 62)
    ap.add_argument("--chunk", type=int, default=16384)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tamper-put", type=int, action="append", default=[])
    ap.add_argument("--drop-after-put", type=int, action="append", default=[])
    ap.add_argument("--swallow-put-from", type=int, default=0)
    ap.add_argument("--capture")
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.chunk < 1:
        ap.error("--chunk must be positive")
    try:
        asyncio.run(main_async(args))
    except OSError as e:
        print(f"faultproxy: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
