#!/usr/bin/env python3
"""Builds hostile variants of a valid SiteLift archive, for the import refusal tests.

    hostile.py CASE VALID_ARCHIVE OUTPUT_TAR

VALID_ARCHIVE may be zstd-compressed; OUTPUT_TAR is written as plain (or, for some cases, compressed) tar.
Each case changes one thing; see CASES below.
"""
import io
import json
import subprocess
import sys
import tarfile


def load(path):
    raw = open(path, "rb").read()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = subprocess.run(["zstd", "-dc"], input=raw, stdout=subprocess.PIPE, check=True).stdout
    members = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        for m in tar.getmembers():
            data = tar.extractfile(m).read() if m.isfile() else None
            members.append((m, data))
    return members


def write(members, out, compress=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for m, data in members:
            if data is not None:
                m.size = len(data)
                tar.addfile(m, io.BytesIO(data))
            else:
                tar.addfile(m)
    raw = buf.getvalue()
    if compress == "zstd":
        raw = subprocess.run(["zstd", "-3", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
    open(out, "wb").write(raw)


def info(name, kind=tarfile.REGTYPE, link=""):
    m = tarfile.TarInfo(name)
    m.type = kind
    m.linkname = link
    m.mode = 0o644
    m.mtime = 1700000000
    return m


def before_manifest(members, extra):
    """Inserts (TarInfo, data) pairs just before manifest.json, and lists them in the manifest as well, so that
    the rule under test refuses them, not the manifest check."""
    manifest = manifest_of(members)
    for m, data in extra:
        e = {"path": m.name, "mode": "%04o" % m.mode, "mtime": m.mtime}
        if m.type == tarfile.DIRTYPE:
            e["type"] = "dir"
        elif m.type == tarfile.SYMTYPE:
            e["type"] = "symlink"
            e["target"] = m.linkname
        else:
            e["type"] = "file"
            e["size"] = len(data or b"")
            e["sha256"] = sha256(data or b"")
        manifest["entries"].append(e)
    manifest["entry_count"] += len(extra)
    set_manifest(members, manifest)
    return members[:-1] + extra + members[-1:]


def manifest_of(members):
    m, data = members[-1]
    assert m.name == "manifest.json", "the last entry of a SiteLift archive is manifest.json"
    return json.loads(data)


def set_manifest(members, manifest):
    m, _ = members[-1]
    members[-1] = (m, json.dumps(manifest).encode())


def first_file(members, prefix):
    for i, (m, data) in enumerate(members):
        if m.isfile() and m.name.startswith(prefix) and data:
            return i
    raise SystemExit("no file under " + prefix)


def sha256(data):
    import hashlib
    return hashlib.sha256(data).hexdigest()


def replace_table_sql(members, sql):
    """Replaces the posts table's SQL and makes the manifest agree, so only the SQL rules can refuse it."""
    i = next(i for i, (m, _) in enumerate(members) if m.name.endswith("posts.sql"))
    members[i] = (members[i][0], sql)
    manifest = manifest_of(members)
    for e in manifest["entries"]:
        if e.get("path") == members[i][0].name:
            e["size"] = len(sql)
            e["sha256"] = sha256(sql)
    set_manifest(members, manifest)
    return members[i][0].name[len("database/"):-len(".sql")]


def case(name, members, out):
    if name == "dotdot":
        write(before_manifest(members, [(info("files/../escaped-dotdot.txt"), b"escaped\n")]), out)
    elif name == "absolute":
        write(before_manifest(members, [(info("/tmp/sitelift-evil-absolute.txt"), b"escaped\n")]), out)
    elif name == "absolute-in-files":
        write(before_manifest(members, [(info("files//tmp/sitelift-evil-absolute.txt"), b"escaped\n")]), out)
    elif name == "device":
        d = info("files/evil-device", tarfile.CHRTYPE)
        d.devmajor, d.devminor = 1, 3
        write(before_manifest(members, [(d, None)]), out)
    elif name == "fifo":
        write(before_manifest(members, [(info("files/evil-fifo", tarfile.FIFOTYPE), None)]), out)
    elif name == "hardlink":
        write(before_manifest(members, [(info("files/evil-hardlink", tarfile.LNKTYPE, "../../../../etc/passwd"), None)]), out)
    elif name == "symlink-escape":
        write(before_manifest(members, [(info("files/evil-link", tarfile.SYMTYPE, "../../../../../etc"), None)]), out)
    elif name == "symlink-absolute":
        write(before_manifest(members, [(info("files/evil-link", tarfile.SYMTYPE, "/etc"), None)]), out)
    elif name == "symlink-chain":
        # Each target looks harmless on its own; followed together they lead above the root.
        d = info("files/chain", tarfile.DIRTYPE)
        d.mode = 0o755
        write(before_manifest(members, [
            (d, None),
            (info("files/chain/up", tarfile.SYMTYPE, ".."), None),
            (info("files/evil-chain", tarfile.SYMTYPE, "chain/up/.."), None),
        ]), out)
    elif name == "through-symlink":
        write(before_manifest(members, [
            (info("files/evil-dir-link", tarfile.SYMTYPE, "wp-content"), None),
            (info("files/evil-dir-link/evil.php"), b"<?php echo 'evil';\n"),
        ]), out)
    elif name == "workdir":
        write(before_manifest(members, [(info("files/.sitelift/state.json"), b"{}\n")]), out)
    elif name == "stray-entry":
        write(before_manifest(members, [(info("evil.txt"), b"stray\n")]), out)
    elif name == "truncated":
        raw = open(sys.argv[2], "rb").read()
        open(out, "wb").write(raw[: len(raw) // 2])
    elif name == "no-manifest":
        write(members[:-1], out)
    elif name == "no-site-json":
        write(members[1:], out)
    elif name == "bomb":
        # Right after site.json: 300 MiB of zeros that compress to almost nothing.
        zeros = b"\0" * (300 << 20)
        write(members[:1] + [(info("files/evil-bomb.bin"), zeros)] + members[1:], out, compress="zstd")
    elif name == "lying-size":
        manifest = manifest_of(members)
        for e in manifest["entries"]:
            if e.get("type") == "file" and e["path"].startswith("files/") and e["size"] > 0:
                e["size"] += 1000
                break
        set_manifest(members, manifest)
        write(members, out)
    elif name == "tampered-file":
        i = first_file(members, "files/")
        m, data = members[i]
        members[i] = (m, bytes([data[0] ^ 0x01]) + data[1:])
        write(members, out)
    elif name == "tampered-sql":
        i = first_file(members, "database/")
        m, data = members[i]
        # Same length, still valid SQL: only the hash can tell.
        members[i] = (m, data.replace(b"INSERT INTO", b"insert into", 1) if b"INSERT INTO" in data else data[:-1] + b" ")
        write(members, out)
    elif name == "sql-other-table":
        table = None
        prefix = manifest_of(members)["site"]["table_prefix"]
        table = replace_table_sql(members, ("INSERT INTO `%susers` (`ID`,`user_login`) VALUES (999,'evil');\n" % prefix).encode())
        write(members, out)
    elif name == "sql-drop":
        prefix = manifest_of(members)["site"]["table_prefix"]
        replace_table_sql(members, ("DROP TABLE IF EXISTS `%susers`;\n" % prefix).encode())
        write(members, out)
    elif name == "sql-versioned-comment":
        prefix = manifest_of(members)["site"]["table_prefix"]
        replace_table_sql(members, ("/*!50000 DROP TABLE `%susers` */;\n" % prefix).encode())
        write(members, out)
    elif name == "sql-create-select":
        prefix = manifest_of(members)["site"]["table_prefix"]
        replace_table_sql(members, ("CREATE TABLE `%sposts` SELECT * FROM `%susers`;\n" % (prefix, prefix)).encode())
        write(members, out)
    elif name == "wp-config":
        # Listed in the manifest too: the import must succeed and keep the destination's own wp-config.php.
        data = b"<?php die('replaced');\n"
        m = info("files/wp-config.php")
        write(before_manifest(members, [(m, data)]), out)
    else:
        raise SystemExit("unknown case " + name)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    case(sys.argv[1], load(sys.argv[2]), sys.argv[3])
