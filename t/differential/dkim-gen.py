#!/usr/bin/python3
# dkim-gen.py - generated DKIM cases for the differential test: seeded
# messages signed at run time with dkimpy, a key table, then tampered
# variants.
#
# Usage: DKIMSIGN=path/to/t/tools/dkimsign dkim-gen.py SEED COUNT OUTDIR
#
# About 70% of the signatures are made by dkimpy, 30% by t/tools/dkimsign
# (libopendkim, the library smtpscope verifies with), so neither signer's
# reading of the canonicalizations is taken for granted. dkimpy's are the
# ones with h= listing a field more often than present or naming an
# absent one (libopendkim signs present fields only).
#
# Writes into OUTDIR:
#   keys.tsv    the key records: NAME<TAB>TXT-STRING<TAB>TXT-STRING...
#               (what Mail::DKIM's and dkimpy's fake DNS serve)
#   keys.zone   the same records in master format (smtpscope-eval --zone)
#   cases.tsv   ID<TAB>tamper<TAB>sig:sig:... one line per message, each sig
#               "selector/domain/algorithm/hdr-body/l|-/oversigned|-/absent|-/
#               signer", top first
#   keys/*.pem  the private keys, for dkimsign
#   msg/ID.eml  the messages, CRLF line ends
#
# The keys are made fresh (openssl for RSA, PyNaCl from a seeded seed for
# Ed25519); everything else follows from SEED, so one seed always gives
# the same messages, signature options and tampering. RSA keys of 1024
# and 2048 bits are published both as SubjectPublicKeyInfo and as a bare
# PKCS#1 RSAPublicKey (one also with white space folded into p=), the
# Ed25519 key raw (RFC 8463); a revoked key (p=) and a selector without a
# record are there too. Python standard library plus dkimpy and PyNaCl
# (Debian python3-dkim, python3-nacl).
import base64
import os
import random
import subprocess
import sys

import dkim
import nacl.signing

DOMAINS = ["d1.example", "d2.example"]
DKIMSIGN = os.environ.get("DKIMSIGN", "dkimsign")


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, check=True,
                          capture_output=True).stdout


def rsa_key(bits):
    """private PEM (PKCS#1 for dkimpy, PKCS#8 for dkimsign), SPKI and
    PKCS#1 public DER"""
    pem = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                  "rsa_keygen_bits:%d" % bits)
    trad = openssl("rsa", "-traditional", data=pem)
    spki = openssl("pkey", "-pubout", "-outform", "DER", data=pem)
    pkcs1 = openssl("rsa", "-RSAPublicKey_out", "-outform", "DER", data=pem)
    return trad, pem, spki, pkcs1


def ed_pem(seed):
    """the PKCS#8 PEM of an Ed25519 seed (RFC 8410), for dkimsign"""
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    return ("-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" %
            base64.b64encode(der).decode()).encode()


def write_pem(outdir, sel, pem):
    path = os.path.join(outdir, "keys", sel + ".pem")
    with open(path, "wb") as f:
        f.write(pem)
    return path


def b64(data):
    return base64.b64encode(data).decode()


def make_keys(rnd, outdir):
    """selector -> (private key for dkimpy, kind, PEM file for dkimsign),
    and the key records"""
    keys, records = {}, []
    os.makedirs(os.path.join(outdir, "keys"), exist_ok=True)
    for bits in (1024, 2048):
        priv, pem, spki, pkcs1 = rsa_key(bits)
        pem = write_pem(outdir, "r%d" % bits, pem)
        keys["r%ds" % bits] = (priv, "rsa", pem)
        keys["r%dp" % bits] = (priv, "rsa", pem)
        records.append(("r%ds" % bits, "v=DKIM1; k=rsa; p=" + b64(spki)))
        records.append(("r%dp" % bits, "v=DKIM1; k=rsa; p=" + b64(pkcs1)))
        if bits == 2048:
            p = b64(pkcs1)
            keys["r2048pf"] = (priv, "rsa", pem)
            records.append(("r2048pf", "v=DKIM1; p=%s \t %s ;t=s" %
                            (p[:60], p[60:])))
            keys["rev"] = (priv, "rsa", pem)
            records.append(("rev", "v=DKIM1; k=rsa; p="))
            keys["nokey"] = (priv, "rsa", pem)
    seed = bytes(rnd.getrandbits(8) for _ in range(32))
    sk = nacl.signing.SigningKey(seed)
    keys["ed"] = (base64.b64encode(seed), "ed25519",
                  write_pem(outdir, "ed", ed_pem(seed)))
    records.append(("ed", "v=DKIM1; k=ed25519; p=" +
                    b64(bytes(sk.verify_key))))
    table = []
    for dom in DOMAINS:
        for sel, txt in records:
            if dom == "d2.example" and not sel.startswith("r2048"):
                continue
            table.append(("%s._domainkey.%s" % (sel, dom), txt))
    return keys, table


def split255(txt):
    return [txt[i:i + 255] for i in range(0, len(txt), 255)] or [""]


def write_keys(outdir, table):
    with open(os.path.join(outdir, "keys.tsv"), "w") as f:
        for name, txt in table:
            f.write(name + "\t" + "\t".join(split255(txt)) + "\n")
    with open(os.path.join(outdir, "keys.zone"), "w") as f:
        for name, txt in table:
            quoted = " ".join('"%s"' % s.replace("\\", "\\\\")
                              .replace('"', '\\"') for s in split255(txt))
            f.write("%s. 300 IN TXT %s\n" % (name, quoted))


WORDS = ("alpha beta gamma delta figures report meeting lunch the a of and "
         "quarterly budget release notes").split()


def words(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def odd_ws(rnd, text):
    """white space as senders produce it: doubled, tabs, trailing"""
    out = []
    for w in text.split(" "):
        out.append(w)
        out.append(rnd.choice([" ", " ", "  ", "\t", " \t "]))
    s = "".join(out[:-1])
    if rnd.random() < 0.3:
        s += rnd.choice([" ", "\t", "  "])
    return s


def fold(rnd, text):
    """a value folded at a space into CRLF + WSP continuation lines"""
    parts = text.split(" ")
    if len(parts) < 3:
        return text
    at = rnd.randrange(1, len(parts) - 1)
    return " ".join(parts[:at]) + "\r\n" + rnd.choice([" ", "\t", "  "]) + \
        " ".join(parts[at:])


def make_headers(rnd, n):
    """(name, raw value with its leading space) in order"""
    h = []
    for i in range(rnd.randrange(0, 4)):
        h.append(("Received", " from relay%d.d1.example by mx.d1.example;"
                  "\r\n\tSat, 28 Nov 2026 10:0%d:00 +0000" % (i, i)))
    h.append(("From", " Alice <alice@d1.example>"))
    h.append(("To", " Bob <bob@smtpscope.test>"))
    subj = words(rnd, rnd.randrange(2, 9))
    if rnd.random() < 0.3:
        subj = odd_ws(rnd, subj)
    if rnd.random() < 0.3:
        subj = fold(rnd, subj)
    h.append((rnd.choice(["Subject", "Subject", "subject", "SUBJECT"]),
              rnd.choice([" ", " ", "", "\t", "  "]) + subj))
    h.append(("Date", " Sat, 28 Nov 2026 10:00:00 +0000"))
    h.append(("Message-ID", " <case.%d@d1.example>" % n))
    if rnd.random() < 0.3:
        h.append(("X-Odd", odd_ws(rnd, " " + words(rnd, 4))))
    if rnd.random() < 0.15:
        h.append(("X-Empty", rnd.choice(["", " "])))
    if rnd.random() < 0.3:
        h.append(("Content-Type", " text/plain;\r\n\tcharset=utf-8"))
    if rnd.random() < 0.2:
        h.append(("X-Long", fold(rnd, " " + words(rnd, 30))))
    rnd.shuffle(h[-3:]) if rnd.random() < 0.3 else None
    return h


def make_body(rnd):
    lines = []
    for _ in range(rnd.randrange(0, 12)):
        r = rnd.random()
        if r < 0.15:
            lines.append("")
        elif r < 0.3:
            lines.append(odd_ws(rnd, words(rnd, rnd.randrange(1, 8))))
        elif r < 0.35:
            lines.append(rnd.choice([" ", "\t", "  \t"]))
        else:
            lines.append(words(rnd, rnd.randrange(1, 14)))
    body = "".join(l + "\r\n" for l in lines)
    r = rnd.random()
    if r < 0.1:
        body += "\r\n\r\n"          # trailing empty lines
    elif r < 0.15 and body:
        body = body[:-2]            # no final CRLF
    elif r < 0.2:
        body += "caf\u00e9 \u00fcber\r\n"
    elif r < 0.25:
        body += "a bare\rCR inside a line\r\n"   # Postfix passes it on
    return body


def render(headers, body):
    return ("".join("%s:%s\r\n" % (n, v) for n, v in headers) + "\r\n" +
            body).encode("utf-8")


def choose_sig(rnd, keys, headers):
    sel = rnd.choice(["r1024s", "r1024p", "r2048s", "r2048p", "r2048pf",
                      "ed", "ed", "r2048s", "rev", "nokey"])
    dom = "d2.example" if sel.startswith("r2048") and rnd.random() < 0.2 \
        else "d1.example"
    kind = keys[sel][1]
    if kind == "ed25519":
        alg = "ed25519-sha256"
    else:
        alg = "rsa-sha1" if rnd.random() < 0.07 else "rsa-sha256"
    canon = (rnd.choice(["simple", "relaxed"]), rnd.choice(["simple",
                                                            "relaxed"]))
    names = sorted({n.strip().lower() for n, _ in headers} - {"from"})
    inc = ["from"] + rnd.sample(names, rnd.randrange(0, len(names) + 1))
    over = absent = "-"
    if rnd.random() < 0.25:
        over = rnd.choice(inc)
        inc.append(over)            # listed more often than present
    if rnd.random() < 0.15:
        absent = rnd.choice(["reply-to", "cc", "in-reply-to", "x-none"])
        inc.insert(rnd.randrange(len(inc) + 1), absent)
    rnd.shuffle(inc)
    signer = "dkimpy"
    # libopendkim 2.11 signs present fields only, and its ed25519-sha256
    # signatures with simple header canonicalization verify nowhere
    # (smtpscope, dkimpy): those stay with dkimpy
    if rnd.random() < 0.3 and not (alg.startswith("ed25519") and
                                   canon[0] == "simple"):
        signer, over, absent = "opendkim", "-", "-"
        inc = sorted(set(inc) - {"reply-to", "cc", "in-reply-to", "x-none"})
    return {"sel": sel, "dom": dom, "alg": alg, "canon": canon,
            "inc": inc, "l": rnd.random() < 0.2, "over": over,
            "absent": absent, "signer": signer}


def sign_opendkim(msg, sig, keys):
    cmd = [DKIMSIGN, "-d", sig["dom"], "-s", sig["sel"], "-k",
           keys[sig["sel"]][2], "-a", sig["alg"], "-c", "/".join(sig["canon"]),
           "-h", ":".join(sig["inc"])] + (["-l"] if sig["l"] else [])
    return subprocess.run(cmd, input=msg, check=True,
                          capture_output=True).stdout


def sign(msg, sig, keys):
    if sig["signer"] == "opendkim":
        return sign_opendkim(msg, sig, keys)
    d = dkim.DKIM(msg, signature_algorithm=sig["alg"].encode())
    d.should_not_sign = set()       # RFC 6376 lets Received be signed
    hdr = d.sign(sig["sel"].encode(), sig["dom"].encode(),
                 keys[sig["sel"]][0],
                 canonicalize=tuple(c.encode() for c in sig["canon"]),
                 include_headers=[h.encode() for h in sig["inc"]],
                 length=sig["l"])
    return hdr + msg


TAMPERS = ["none"] * 8 + ["body_append", "body_change", "body_ws",
                          "body_blank", "hdr_change", "hdr_ws", "hdr_case",
                          "hdr_add", "hdr_dup_top", "hdr_obs", "sig_b",
                          "sig_bh",
                          "sig_tag", "sig_dom", "sig_ws"]


def flip_b64(rnd, s, start, end):
    """one base64 character of s[start:end] changed, away from the end"""
    pos = rnd.randrange(start, max(start + 1, end - 4))
    while s[pos] in " \t\r\n":
        pos += 1
    c = "A" if s[pos] != "A" else "B"
    return s[:pos] + c + s[pos + 1:]


def tag_span(text, tag):
    """start and end of a tag's value in a DKIM-Signature header text"""
    i = 0
    while True:
        i = text.find(tag + "=", i)
        if i < 0:
            return None
        if i == 0 or text[i - 1] in "; \t\n":
            j = text.find(";", i)
            return i + len(tag) + 1, (j if j >= 0 else len(text))
        i += 1


def tamper_sig(rnd, msg, what):
    head, sep, body = msg.partition("\r\n\r\n")
    lines = head.split("\r\n")
    starts = [i for i, l in enumerate(lines) if
              l.lower().startswith("dkim-signature:")]
    if not starts:
        return msg
    i = rnd.choice(starts)
    j = i + 1
    while j < len(lines) and lines[j][:1] in (" ", "\t"):
        j += 1
    text = "\r\n".join(lines[i:j])
    if what in ("sig_b", "sig_bh"):
        span = tag_span(text, "b" if what == "sig_b" else "bh")
        text = flip_b64(rnd, text, *span)
    elif what == "sig_tag":
        choice = rnd.choice(["v=1", "a=", "d=", "h="])
        if choice == "v=1":
            text = text.replace("v=1", "v=2", 1)
        elif choice == "a=":
            text = text.replace("a=", "a=x", 1)
        else:
            span = tag_span(text, choice[0])
            text = text[:span[0] - 2] + text[span[1] + 1:]
    elif what == "sig_dom":
        text = text.replace("d=d1.example", "d=d2.example", 1) \
            if "d=d1.example" in text else \
            text.replace("d=d2.example", "d=d1.example", 1)
    elif what == "sig_ws":
        text = text.replace("; ", ";\r\n\t ", 1).replace("=", " = ", 1)
    lines[i:j] = text.split("\r\n")
    return "\r\n".join(lines) + sep + body


def tamper(rnd, msg, what):
    head, sep, body = msg.partition("\r\n\r\n")
    if what == "body_append":
        body += "appended by a list\r\n"
    elif what == "body_change":
        body = ("X" + body[1:]) if body and body[0] != "X" else "Y" + body
    elif what == "body_ws":
        body = body.replace(" ", "  ", 1) if " " in body else body + " "
    elif what == "body_blank":
        body += "\r\n\r\n"
    elif what == "hdr_change":
        head = head.replace("Alice <alice", "Mallory <alice", 1)
    elif what == "hdr_ws":
        head = head.replace("Bob <bob", "Bob  \t<bob", 1)
    elif what == "hdr_case":
        head = head.replace("\r\nTo:", "\r\nTO:", 1)
    elif what == "hdr_add":
        head += "\r\nX-Added: after signing"
    elif what == "hdr_obs":        # obsolete syntax: WSP before the colon
        head += "\r\nX-Obsolete : after signing"
    elif what == "hdr_dup_top":
        name = rnd.choice(["Subject", "To", "Date", "Reply-To", "Cc"])
        head = "%s: added on top\r\n" % name + head
    else:
        return tamper_sig(rnd, msg, what)
    return head + sep + body


def make_case(rnd, n, keys):
    headers = make_headers(rnd, n)
    body = make_body(rnd)
    msg = render(headers, body)
    sigs = [choose_sig(rnd, keys, headers)
            for _ in range(rnd.choice([1, 1, 1, 2, 2, 3]))]
    for sig in sigs:
        if "\r" in body.replace("\r\n", ""):
            sig["signer"] = "dkimpy"    # dkimsign's FIXCRLF alters bare CR
        msg = sign(msg, sig, keys)
    what = rnd.choice(TAMPERS)
    text = tamper(rnd, msg.decode("utf-8"), what)
    # signatures are prepended: the last one made is the first in the header
    desc = ["%s/%s/%s/%s/%s/%s/%s/%s" % (s["sel"], s["dom"], s["alg"],
                                         "-".join(s["canon"]),
                                         "l" if s["l"] else "-", s["over"],
                                         s["absent"], s["signer"])
            for s in reversed(sigs)]
    return text.encode("utf-8"), what, desc


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: dkim-gen.py SEED COUNT OUTDIR")
    seed, count, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)
    os.makedirs(os.path.join(outdir, "msg"), exist_ok=True)
    keys, table = make_keys(rnd, outdir)
    write_keys(outdir, table)
    with open(os.path.join(outdir, "cases.tsv"), "w") as cases:
        for n in range(count):
            msg, what, desc = make_case(rnd, n, keys)
            cid = "%06d" % n
            with open(os.path.join(outdir, "msg", cid + ".eml"), "wb") as f:
                f.write(msg)
            cases.write("%s\t%s\t%s\n" % (cid, what, ":".join(desc)))


if __name__ == "__main__":
    main()
