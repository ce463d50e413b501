#!/usr/bin/python3
# dkim-dkimpy.py - dkimpy's verdict on every signature of every generated
# case, DNS served from the key table (keys.tsv), for the differential test.
#
# Usage: dkim-dkimpy.py OUTDIR > results
# Prints ID<TAB>INDEX<TAB>RESULT<TAB>DETAIL, one line per DKIM-Signature,
# top first (INDEX from 0). dkimpy's DKIM.verify(idx) only says True or
# False; its logger tells why. RESULT is:
#   pass   verify() returned True;
#   fail   False with no error logged (the signature did not verify) or
#          with "body hash mismatch" logged;
#   other  False with any other error (key missing, revoked or unparsable,
#          bad tags, ...).
# minkey=0: the keys are 1024 bits and more, and the key size policy is
# compared through the documented classes, not here.
import logging
import os
import sys

import dkim


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def load_table(path):
    table = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            table[parts[0].lower()] = "".join(parts[1:]).encode()
    return table


def main():
    outdir = sys.argv[1]
    table = load_table(os.path.join(outdir, "keys.tsv"))

    def dnsfunc(name, timeout=5):
        return table.get(name.decode().rstrip(".").lower())

    cap = Capture()
    logger = logging.getLogger("dkim-diff")
    logger.addHandler(cap)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    with open(os.path.join(outdir, "cases.tsv")) as f:
        ids = [line.split("\t", 1)[0] for line in f]
    out = sys.stdout
    for cid in ids:
        with open(os.path.join(outdir, "msg", cid + ".eml"), "rb") as f:
            msg = f.read()
        try:
            d = dkim.DKIM(msg, logger=logger, minkey=0)
            n = sum(1 for k, _ in d.headers if k.lower() == b"dkim-signature")
        except dkim.DKIMException as e:
            # dkimpy refuses the whole message: every signature is other
            head = msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            n = sum(1 for l in head if l.lower().startswith(b"dkim-signature"))
            why = str(e).replace("\t", " ").replace("\n", " ")[:200]
            for idx in range(n):
                out.write("%s\t%d\tother\tmessage: %s\n" % (cid, idx, why))
            continue
        for idx in range(n):
            cap.messages = []
            try:
                ok = d.verify(idx=idx, dnsfunc=dnsfunc)
            except Exception as e:          # dkimpy bug: counts as other
                ok, cap.messages = False, ["exception: %r" % e]
            why = "; ".join(cap.messages).replace("\t", " ")
            why = why.replace("\n", " ")[:200]
            if ok:
                res = "pass"
            elif not cap.messages or "body hash mismatch" in why:
                res = "fail"
            else:
                res = "other"
            out.write("%s\t%d\t%s\t%s\n" % (cid, idx, res, why))


if __name__ == "__main__":
    main()
