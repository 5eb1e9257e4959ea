#!/usr/bin/env python3
"""Sends a captured push request (a file written by faultproxy.py --capture) to a destination again, as it
was or changed, for the replay and tamper tests. Implements the token format and the request signature of
ext/core/crypto.hpp (sl1 tokens, HKDF-SHA256 keys, HMAC-SHA256 over the canonical request) independently, so
a test can sign a request the way a source holding the token would.

    pushsign.py send --request=FILE --to=http://HOST:PORT [--token=TOKEN] [changes]
changes (applied in this order):
    --flip-body-at=N      XOR byte N of the body with 0x01 (a sealed part: 0-24 header, then ciphertext)
    --resign              sign again with a new nonce and the current time (needs --token)
    --timestamp-offset=S  with --resign: sign with the current time plus S seconds
    --keep-nonce          with --resign: keep the captured nonce
    --forge               made up token: with --resign, sign with a random key of the right length
Prints "status=NNN" and the answer's body on the next line; exit status 0 when an answer came.

    pushsign.py forge-token --token=TOKEN [--new-id]
Prints a well-formed token carrying the same URL, site name and expiry with a random secret (and, with
--new-id, a random token id): what an attacker who knows everything but the secret can make.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.parse

MAC_INFO = b"sitelift v1 request mac"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_token(token):
    prefix, payload, secret = token.strip().split(".")
    if prefix != "sl1":
        raise ValueError("not an sl1 token")
    return json.loads(b64url_decode(payload)), b64url_decode(secret)


def hkdf_sha256(ikm, salt, info, length=32):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def mac_key(token):
    payload, secret = parse_token(token)
    return hkdf_sha256(secret, payload["i"].encode(), MAC_INFO)


def sign(key, method, target, timestamp, nonce, body):
    canonical = "\n".join(["sitelift-v1-request", method, target, str(timestamp), nonce,
                           hashlib.sha256(body).hexdigest()])
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def read_request(path):
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append([k.strip(), v.strip()])
    if any(k.lower() == "transfer-encoding" for k, _ in headers):
        raise SystemExit("pushsign: chunked requests are not supported")
    return method, target, headers, body


def header(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def set_header(headers, name, value):
    for h in headers:
        if h[0].lower() == name.lower():
            h[1] = value
            return
    headers.append([name, value])


def send(args):
    method, target, headers, body = read_request(args.request)
    if args.flip_body_at is not None:
        b = bytearray(body)
        b[args.flip_body_at] ^= 0x01
        body = bytes(b)
    if args.resign:
        if args.forge:
            key = secrets.token_bytes(32)
        else:
            if not args.token:
                raise SystemExit("pushsign: --resign needs --token")
            key = mac_key(args.token)
            set_header(headers, "X-SiteLift-Token", parse_token(args.token)[0]["i"])
        ts = int(time.time()) + args.timestamp_offset
        nonce = header(headers, "X-SiteLift-Nonce") if args.keep_nonce else secrets.token_hex(16)
        set_header(headers, "X-SiteLift-Timestamp", str(ts))
        set_header(headers, "X-SiteLift-Nonce", nonce)
        set_header(headers, "X-SiteLift-Signature", sign(key, method, target, ts, nonce, body))
    set_header(headers, "Content-Length", str(len(body)))
    url = urllib.parse.urlsplit(args.to)
    # Host as the destination expects it; everything else as captured.
    set_header(headers, "Host", url.netloc)
    set_header(headers, "Connection", "close")
    headers = [h for h in headers if h[0].lower() != "expect"]
    raw = f"{method} {target} HTTP/1.1\r\n".encode() + b"".join(
        f"{k}: {v}\r\n".encode("latin-1") for k, v in headers) + b"\r\n" + body
    with socket.create_connection((url.hostname, url.port or 80), timeout=60) as s:
        s.sendall(raw)
        answer = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            answer += d
    head, _, rbody = answer.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not m:
        print("status=000")
        return 1
    if re.search(rb"(?i)\r\ntransfer-encoding:\s*chunked", head):
        out, rest = b"", rbody
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        rbody = out
    print(f"status={m.group(1).decode()}")
    print(rbody.decode("utf-8", "replace"))
    return 0


def forge_token(args):
    payload, _ = parse_token(args.token)
    if args.new_id:
        payload["i"] = secrets.token_hex(16)
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    print(f"sl1.{b64url_encode(data)}.{b64url_encode(secrets.token_bytes(32))}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--request", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--token")
    s.add_argument("--flip-body-at", type=int)
    s.add_argument("--resign", action="store_true")
    s.add_argument("--timestamp-offset", type=int, default=0)
    s.add_argument("--keep-nonce", action="store_true")
    s.add_argument("--forge", action="store_true")
    f = sub.add_parser("forge-token")
    f.add_argument("--token", required=True)
    f.add_argument("--new-id", action="store_true")
    args = ap.parse_args()
    return send(args) if args.cmd == "send" else forge_token(args)


if __name__ == "__main__":
    sys.exit(main())
