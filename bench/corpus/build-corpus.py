#!/usr/bin/env python3
"""Rebuilds mixed-1000.jsonl from the Debian packages listed in PACKAGES (see README.md).

    python3 bench/corpus/build-corpus.py [--debs DIR] [--out FILE]

The .deb files are looked for in DIR (default: bench/target/corpus-debs); a missing one is fetched with
`apt-get download NAME=VERSION` (a Debian 12 "bookworm" apt source), or can be put there by hand from
https://snapshot.debian.org/package/NAME/VERSION/. Each file's SHA-256 is checked, its contents are read with
`dpkg-deb --fsys-tarfile`, and nothing else on the machine is read, so the same packages give the same file
byte for byte. Python 3.8 or newer, standard library only.

Texts are units a user would embed: a paragraph of prose, a man page paragraph or section, a translated
message, a block of code or a whole function. Each source's candidates are ranked by the SHA-256 of the text
and the first ones are taken, up to the source's quota; the corpus is then ordered by the same hash, so
sources, scripts and lengths are interleaved.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import tarfile

# name, version, file name as apt-get download writes it (an epoch's colon as %3a), SHA-256 of the file
PACKAGES = [
    ("base-files", "12.4+deb12u15", "base-files_12.4+deb12u15_amd64.deb",
     "3eb1ea6d85488f488cc2a163b98ad640ef88cee4c79287cf14e361aaf6206f47"),
    ("man-db", "2.11.2-2", "man-db_2.11.2-2_amd64.deb",
     "4134d16ea0233ebe78b2d1d271194fcf49a69eb2850421b0f3d76055e221fcea"),
    ("passwd", "1:4.13+dfsg1-1+deb12u2", "passwd_1%3a4.13+dfsg1-1+deb12u2_amd64.deb",
     "fb787363372903e03627e53fd483e51dfb6861047a1e02c7d5a5f27d66546d08"),
    ("libglib2.0-data", "2.74.6-2+deb12u9", "libglib2.0-data_2.74.6-2+deb12u9_all.deb",
     "d98434e097009dedd2f2382c48b7debab5b14261966c0e0506a991b2496bea5f"),
    ("vim-runtime", "2:9.0.1378-2+deb12u2", "vim-runtime_2%3a9.0.1378-2+deb12u2_all.deb",
     "6a3dd2317a593742cb247f3494d986b3127887dbe1449253b8efa6112289854e"),
    ("libpython3.11-stdlib", "3.11.2-6+deb12u8", "libpython3.11-stdlib_3.11.2-6+deb12u8_amd64.deb",
     "890b3540dad8a1ccc0deeca025db735bcc82629a76adacbe3b50fcc06ed528ca"),
    ("libc6-dev", "2.36-9+deb12u14", "libc6-dev_2.36-9+deb12u14_amd64.deb",
     "0218fc2befcd784c1b0c6292c0a137ce89fad054efaa579ad083bee0f2c01aae"),
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def deb_path(debs, name, version, filename):
    """The package's .deb in `debs`, downloaded first when it is not there."""
    path = os.path.join(debs, filename)
    if not os.path.exists(path):
        os.makedirs(debs, exist_ok=True)
        subprocess.run(["apt-get", "download", name + "=" + version], cwd=debs, check=True)
    return path


def members(path):
    """(name, bytes) of every regular file in the .deb's data, paths without the leading ./"""
    tar_bytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", path], check=True, stdout=subprocess.PIPE).stdout
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for m in tar:
            if m.isfile():
                yield m.name.lstrip("./"), tar.extractfile(m).read()


def gunzip(name, data):
    return gzip.decompress(data) if name.endswith(".gz") else data


def text_of(data):
    return data.decode("utf-8", errors="replace")


def one_line(s):
    return re.sub(r"\s+", " ", s).strip()


def paragraphs(text):
    """Blank-line separated blocks, each on one line."""
    return [one_line(p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def blocks(text):
    """Blank-line separated blocks with their line breaks kept (code)."""
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


# ---- man pages: a small roff reader, enough for the man and DocBook macros these pages use ----

NAMED = {"em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "oq": "\u2018",
         "cq": "\u2019", "bu": "\u2022", "co": "\u00a9", "rg": "\u00ae", "hy": "-", "mi": "-", "ti": "~", "ha": "^",
         "Aq": "'", "dg": "\u2020", "->": "\u2192", "<-": "\u2190", "fo": "\u00ab", "fc": "\u00bb", ">=": "\u2265",
         "<=": "\u2264", "mu": "\u00d7", "de": "\u00b0", "Fo": "\u00ab", "Fc": "\u00bb"}
BREAKS = {"PP", "LP", "P", "SH", "SS", "TP", "IP", "HP", "sp", "br", "RS", "RE", "nf", "fi", "TS", "TE", "in",
          "TH", "Sh", "Pp", "EX", "EE", "UR", "UE", "MT", "ME", "SY", "YS", "TQ"}
FONT_ALTERNATING = {"BR", "RB", "IR", "RI", "BI", "IB"}


def roff_escapes(s):
    s = re.sub(r"\\\[u([0-9A-Fa-f]{4,6})\]", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"\\\((..)", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\\[([^\]]*)\]", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\\*\((..)", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\\*\[([^\]]*)\]", lambda m: NAMED.get(m.group(1), ""), s)
    s = re.sub(r"\\\*.", "", s)
    s = re.sub(r"\\f(\(..|\[[^\]]*\]|.)", "", s)
    s = re.sub(r"\\[sh]'[^']*'|\\w'[^']*'|\\s[-+]?\d", "", s)
    s = re.sub(r"\\n(\(..|\[[^\]]*\]|.)", "", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace("\\~", " ")
    s = re.sub(r"\\[&|^c%:)/,!]", "", s)
    return s.replace("\\", "")


def man_sections(source):
    """[(section title, [paragraph, ...])] of a man page's roff source, tables left out."""
    sections, title, paras, cur = [], "", [], []

    def flush():
        if cur:
            p = one_line(" ".join(cur))
            if p:
                paras.append(p)
            cur.clear()

    in_table = False
    for line in source.split("\n"):
        if line.startswith(".TS"):
            in_table = True
            continue
        if line.startswith(".TE"):
            in_table = False
            continue
        if in_table or line.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            if not parts:
                continue
            macro, args = parts[0], parts[1] if len(parts) > 1 else ""
            if macro in ("SH", "SS") or macro in BREAKS:
                flush()
            if macro == "SH":
                if paras:
                    sections.append((title, list(paras)))
                paras.clear()
                title = roff_escapes(args.strip('"'))
            elif macro in ("B", "I", "SM", "SB"):
                cur.append(roff_escapes(args.replace('"', "")))
            elif macro in FONT_ALTERNATING:
                words = re.findall(r'"[^"]*"|\S+', args)
                cur.append(roff_escapes("".join(w.strip('"') for w in words)))
            elif macro in ("IP", "TP") and args:
                cur.append(roff_escapes(args.split('"')[1] if args.startswith('"') else args.split()[0]))
            continue
        if not line.strip():
            flush()
            continue
        cur.append(roff_escapes(line))
    flush()
    if paras:
        sections.append((title, list(paras)))
    return sections


def man_language(name):
    parts = name.split("/")  # usr/share/man/LANG/manN/page.N.gz or usr/share/man/manN/page.N.gz
    return "en" if parts[3].startswith("man") else parts[3]


# ---- sources: each returns candidates (kind, text) from one package's files ----

def from_man_pages(files):
    out = []
    for name, data in files:
        if not (name.startswith("usr/share/man/") and name.endswith(".gz")):
            continue
        lang = man_language(name)
        for title, paras in man_sections(text_of(gunzip(name, data))):
            for p in paras:
                out.append(("man-paragraph:" + lang, p))
            if len(paras) > 1:
                out.append(("man-section:" + lang, one_line(title + ". " + " ".join(paras))))
    return out


def from_docs(files, package):
    out = []
    for name, data in files:
        base = os.path.basename(name)
        if not name.startswith("usr/share/doc/" + package + "/"):
            continue
        if base in ("copyright",) or base.endswith((".ps.gz", ".pdf")):
            continue
        text = text_of(gunzip(name, data))
        if base.startswith("changelog"):
            # one entry per "  * " item, continuation lines joined
            for item in re.split(r"\n\s*\*\s+", text):
                item = one_line(re.sub(r"^ -- .*$", "", item, flags=re.M))
                if item and not re.match(r"^\S+ \([^)]*\) ", item):
                    out.append(("changelog", item))
        else:
            for p in paragraphs(text):
                out.append(("doc", p))
    return out


def from_licenses(files):
    out = []
    for name, data in files:
        if not name.startswith("usr/share/common-licenses/"):
            continue
        paras = paragraphs(text_of(data))
        out += [("license-paragraph", p) for p in paras]
        # runs of four paragraphs: a section's worth
        out += [("license-section", " ".join(paras[i:i + 4])) for i in range(0, len(paras) - 3, 4)]
    return out


def from_messages(files):
    out = []
    for name, data in files:
        if not name.endswith(".mo"):
            continue
        lang = name.split("/")[3]
        for value in mo_translations(data):
            out.append(("message:" + lang, one_line(value)))
    return out


def mo_translations(data):
    """The translated strings of a GNU .mo catalogue (the first form of a plural), its header left out."""
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    count, originals, translations = struct.unpack(order + "3I", data[8:20])
    out = []
    for i in range(count):
        olen, _ = struct.unpack(order + "2I", data[originals + 8 * i:originals + 8 * i + 8])
        tlen, toff = struct.unpack(order + "2I", data[translations + 8 * i:translations + 8 * i + 8])
        value = data[toff:toff + tlen].split(b"\0")[0].decode("utf-8", errors="replace")
        if olen > 0 and value.strip():
            out.append(value)
    return out


def from_vim(files):
    out = []
    for name, data in files:
        if not name.startswith("usr/share/vim/vim90/"):
            continue
        rel = name[len("usr/share/vim/vim90/"):]
        if rel.startswith("tutor/tutor") and rel.endswith("utf-8"):
            lang = rel.split(".")[1] if rel.count(".") > 1 else "en"
            out += [("tutor:" + lang, p) for p in paragraphs(text_of(data)) if not set(p) <= set("=~-* ")]
        elif rel.startswith("doc/") and rel.endswith(".txt"):
            out += [("vim-help", p) for p in paragraphs(text_of(data)) if not set(p) <= set("=~-* ")]
        elif rel.endswith(".vim") and rel.split("/")[0] in ("autoload", "ftplugin", "indent", "plugin"):
            out += [("vim-script", b) for b in blocks(text_of(data))]
    return out


def from_python(files):
    out = []
    for name, data in files:
        if not name.endswith(".py") or "/test/" in name:
            continue
        text = text_of(data)
        out += [("python-block", b) for b in blocks(text)]
        # whole top-level functions and classes
        for m in re.finditer(r"^(?:def|class) .*?(?=^\S|\Z)", text, flags=re.M | re.S):
            out.append(("python-definition", m.group(0).strip("\n")))
    return out


def from_c_headers(files):
    out = []
    for name, data in files:
        if name.endswith(".h"):
            out += [("c-header", b) for b in blocks(text_of(data))]
    return out


# Quotas per kind prefix and package: how many texts each source gives.
QUOTAS = [
    ("libglib2.0-data", "message", 340),
    ("man-db", "man-paragraph", 100),
    ("passwd", "man-paragraph", 100),
    ("man-db", "man-section", 15),
    ("passwd", "man-section", 15),
    ("vim-runtime", "tutor", 80),
    ("vim-runtime", "vim-help", 70),
    ("vim-runtime", "vim-script", 35),
    ("libpython3.11-stdlib", "python-block", 60),
    ("libpython3.11-stdlib", "python-definition", 25),
    ("libc6-dev", "c-header", 55),
    ("base-files", "license-paragraph", 25),
    ("base-files", "license-section", 10),
    ("man-db", "doc", 40),
    ("man-db", "changelog", 15),
    ("passwd", "changelog", 15),
]
MIN_CHARS, MAX_CHARS = 12, 6000


def candidates(package, files):
    if package == "base-files":
        return from_licenses(files)
    if package in ("man-db", "passwd"):
        return from_man_pages(files) + from_docs(files, package)
    if package == "libglib2.0-data":
        return from_messages(files)
    if package == "vim-runtime":
        return from_vim(files)
    if package == "libpython3.11-stdlib":
        return from_python(files)
    if package == "libc6-dev":
        return from_c_headers(files)
    raise ValueError(package)


def rank(text):
    return sha256(text.encode("utf-8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--debs", default=os.path.join(ROOT, "bench", "target", "corpus-debs"))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "corpus", "mixed-1000.jsonl"))
    parser.add_argument("--print-hashes", action="store_true", help="print each .deb's SHA-256 and stop")
    args = parser.parse_args()

    chosen, seen = [], set()
    for name, version, filename, digest in PACKAGES:
        path = deb_path(args.debs, name, version, filename)
        with open(path, "rb") as f:
            actual = sha256(f.read())
        if args.print_hashes:
            print(actual, filename)
            continue
        if actual != digest:
            sys.exit(f"{path}: SHA-256 {actual}, expected {digest}")
        files = sorted(members(path))
        pool = candidates(name, files)
        for package, prefix, quota in QUOTAS:
            if package != name:
                continue
            picked = sorted({t for kind, t in pool if kind.split(":")[0] == prefix and MIN_CHARS <= len(t) <= MAX_CHARS},
                            key=rank)
            taken = 0
            for t in picked:
                if taken == quota:
                    break
                if t in seen:
                    continue
                seen.add(t)
                chosen.append(t)
                taken += 1
            if taken < quota:
                sys.exit(f"{name}: only {taken} texts of kind {prefix}, quota {quota}")
    if args.print_hashes:
        return
    chosen.sort(key=rank)
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for t in chosen:
            out.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"wrote {len(chosen)} texts to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
