#!/usr/bin/python3
"""spf-pyspf.py - run SPF cases (OpenSPF YAML suite format, as spf-gen.py
writes them: one JSON document per scenario) through pyspf (Debian
python3-spf), DNS served from each scenario's zonedata the way pyspf's own
test driver (test/testspf.py) does. Prints NAME TAB RESULT TAB EXPLANATION
per test, NAME as t/conformance/spf_suite names it ("SUITE DESC: TEST").

Usage: spf-pyspf.py SUITE cases.yml [smtpscope.tsv known.txt]

With smtpscope's answers (spf_suite's SPF_SUITE_DUMP file) and the list
of known differences it compares instead, as TAP: a case where the two
disagree is explained only when pyspf, with the deviation of one listed
class corrected (PATCHES below), gives smtpscope's answer. Any other
disagreement fails; so does a class that is listed but never seen is
only reported.
"""
import inspect
import json
import re
import socket
import sys

import spf

ZONE = {}


def dns_lookup(name, qtype, strict=True, timeout=None, level=0):
    """testspf.py's DNSLookup: answers from ZONE, TIMEOUT raises"""
    labels = []
    for label in name.split("."):
        if label:
            if len(label) > 63:
                raise spf.TempError("DNS label too long")
            labels.append(label)
    name = ".".join(labels)
    for entry in ZONE.get(name.lower(), []):
        if entry == "TIMEOUT":
            raise spf.TempError("DNS timeout")
        rtype, value, owner = entry
        if rtype == "AAAA":
            value = bytes(socket.inet_pton(socket.AF_INET6, value))
        elif rtype in ("TXT", "SPF"):
            value = tuple(s.encode("utf-8") for s in value)
        yield ((owner, rtype), value)
        if not level and rtype == "CNAME":
            for j in dns_lookup(value, qtype, strict, timeout, 1):
                yield j


def load_zone(zonedata):
    """testspf.py's loadZone: SPF also served as TXT when no TXT"""
    zone = {}
    for owner, entries in zonedata.items():
        out, gen, txt = [], True, []
        for e in entries:
            if e == "TIMEOUT":
                out.append(e)
                continue
            for rtype, value in e.items():
                if rtype in ("TXT", "SPF") and isinstance(value, str):
                    value = (value,)
                if rtype == "TXT":
                    gen = False
                elif rtype == "SPF" and gen:
                    txt.append(("TXT", value, owner))
                if value != ("NONE",):
                    out.append((rtype, value, owner))
        if gen:
            out.extend(txt)
        zone[owner.lower()] = out
    return zone


SEVERAL = "several-at-once"    # needs more than one class corrected


def combined(names):
    """pyspf with several listed classes corrected at once"""
    key = "+".join(names)
    if key and key not in PATCHES:
        PATCHES[key] = type("Combined", tuple(PATCHES[n] for n in names), {})
    return key


def run(t, patch=None):
    """pyspf's answer (result, explanation), with one class corrected"""
    old = {"unknown": "permerror", "error": "temperror"}
    query = PATCHES[patch] if patch else spf.query
    q = query(i=t["host"], s=t["mailfrom"], h=t["helo"], strict=True)
    q.set_default_explanation("DEFAULT")
    try:
        res, _, exp = q.check()
    except Exception as e:  # a pyspf crash is a result too
        res, exp = "crash:" + type(e).__name__, "DEFAULT"
    res = old.get(res, res)
    return res, exp if res == "fail" else "DEFAULT"


def flagged(query, flag, method, *args):
    """call method with query.flag set for its duration"""
    setattr(query, flag, True)
    try:
        return method(*args)
    finally:
        setattr(query, flag, False)


class CnameVoidOnce(spf.query):
    """a void answer reached through a CNAME counts once, not twice"""

    def dns(self, name, qtype, cnames=None, ignore_void=False):
        return super().dns(name, qtype, cnames,
                             ignore_void or cnames is not None)


class TargetAddrNotVoid(spf.query):
    """the address lookups of MX and PTR names are not void lookups of
    the term (only the term's own query is)"""

    def dns_a(self, domainname, A="A"):
        if getattr(self, "_target", False) and domainname:
            return self.dns(domainname, A, ignore_void=True)
        return super().dns_a(domainname, A)

    def dns_mx(self, domainname):
        return flagged(self, "_target", super().dns_mx, domainname)

    def validated_ptrs(self):
        return flagged(self, "_target", super().validated_ptrs)


class ZeroDigit(spf.query):
    """%{d0}: a DIGIT of zero is a syntax error (RFC 7208 7.3)"""

    def expand(self, s, stripdot=True):
        if re.search(r"%\{[a-zA-Z]0+[^0-9]", s + "}"):
            raise spf.PermError("DIGIT of zero", s)
        return super().expand(s, stripdot)


class ExpNotCounted(spf.query):
    """the exp= text is expanded only for a final fail (RFC 7208 6.2):
    its %{p} lookups are not void lookups of the evaluation"""

    def get_explanation(self, spec):
        return flagged(self, "_exp", super().get_explanation, spec)

    def dns(self, name, qtype, cnames=None, ignore_void=False):
        return super().dns(name, qtype, cnames,
                             ignore_void or getattr(self, "_exp", False))


class Ip6NibbleLower(spf.query):
    """%{i} of an IPv6 client in lower-case hex, as RFC 7208 7.4 writes it"""

    def set_ip(self, i):
        super().set_ip(i)
        if self.v == "ip6":
            self.i = self.i.lower()


class ReceiverName(spf.query):
    """%{r}: the checking host's name (libspf2 uses gethostname())"""

    def __init__(self, *args, **kw):
        kw["receiver"] = socket.gethostname()
        super().__init__(*args, **kw)


class JoinWithDot(spf.query):
    """parts are rejoined with "." for every letter (RFC 7208 7.3), not
    only for l and s"""

    def expand(self, s, stripdot=True):
        saved = spf.JOINERS
        spf.JOINERS = dict((ch, ".") for ch in "slodiphvcrt")
        try:
            return super().expand(s, stripdot)
        finally:
            spf.JOINERS = saved


class PtrErrorUnknown(spf.query):
    """%{p}: a DNS error while validating gives "unknown" (RFC 7208 7.3)
    rather than dropping the explanation"""

    def getp(self):
        try:
            return super().getp()
        except spf.TempError:
            self.p = "unknown"
            return self.p


class SelfIncludeEvaluated(spf.query):
    """a record that includes itself is evaluated in order (RFC 7208 4.6,
    5.2): the loop is a permerror only if reached, through the 10-lookup
    limit, not a syntax error found before evaluating"""

    def validate_mechanism(self, mech):
        try:
            return super().validate_mechanism(mech)
        except spf.PermError as e:
            if "trivial recursion" not in str(e) or "%" in mech:
                raise
            saved, self.d = self.d, "not-" + self.d
            try:
                return super().validate_mechanism(mech)
            finally:
                self.d = saved


def _check0_line(text, after=None):
    """the line number in pyspf's query.check0 of a line holding text
    (the first one after a line holding 'after')"""
    lines, start = inspect.getsourcelines(spf.query.check0)
    seen = after is None
    for i, line in enumerate(lines):
        if seen and text in line:
            return start + i
        seen = seen or (after is not None and after in line)
    return -1


REDIRECT_COUNTED = _check0_line("self.check_lookups()", "mod == 'redirect'")
REDIRECT_FOLLOWED = _check0_line("self.dns_spf(redirect)")


class RedirectCountedWhenFollowed(spf.query):
    """redirect= counts toward the 10 lookups when it is followed (RFC
    7208 4.6.4 counts terms during evaluation), not when the record is
    read and a mechanism then matches"""

    def check_lookups(self):
        f = sys._getframe(1)
        if f.f_code is spf.query.check0.__code__ and \
                f.f_lineno == REDIRECT_COUNTED:
            return None
        return super().check_lookups()

    def dns_spf(self, domain):
        f = sys._getframe(1)
        if f.f_code is spf.query.check0.__code__ and \
                f.f_lineno == REDIRECT_FOLLOWED:
            super().check_lookups()
        return super().dns_spf(domain)


class PMacroAtEvaluation(spf.query):
    """a %{p} in a domain-spec is looked up when its term is evaluated;
    pyspf expands every domain-spec when it reads the record, and that
    early PTR lookup counts as a void lookup"""

    def validate_mechanism(self, mech):
        return flagged(self, "_parsing", super().validate_mechanism, mech)

    def dns(self, name, qtype, cnames=None, ignore_void=False):
        return super().dns(name, qtype, cnames,
                           ignore_void or getattr(self, "_parsing", False))


PATCHES = {"delimiter-rejoin": JoinWithDot,
           "p-macro-early": PMacroAtEvaluation,
           "redirect-counted-early": RedirectCountedWhenFollowed,
           "self-include": SelfIncludeEvaluated,
           "p-dns-error-unknown": PtrErrorUnknown,
           "exp-lookups-early": ExpNotCounted,
           "ip6-nibble-case": Ip6NibbleLower,
           "receiver-name": ReceiverName,
           "cname-void-once": CnameVoidOnce,
           "target-address-not-void": TargetAddrNotVoid,
           "zero-digit": ZeroDigit}


def read_tsv(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as fp:
        for line in fp:
            f = line.rstrip("\n").split("\t")
            if len(f) == 3:
                out[f[0]] = (f[1], f[2])
    return out


def mail_spf(suite, path, names):
    """Mail::SPF's answers for these cases (spf-mailspf.pl), if it runs"""
    import os
    import subprocess
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "spf-mailspf.pl")
    if not names:
        return {}
    try:
        out = subprocess.run(["perl", script, suite, path, "-"],
                             input="\n".join(names) + "\n",
                             capture_output=True, text=True, check=True,
                             timeout=1800).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return dict((f[0], (f[1], f[2])) for f in
                (line.split("\t") for line in out.splitlines())
                if len(f) == 3)


def read_known(path):
    known = {}
    with open(path, encoding="utf-8") as fp:
        for line in fp:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            known[f[0]] = f[1:]
    return known


def main():
    global ZONE
    suite, path = sys.argv[1], sys.argv[2]
    ours = read_tsv(sys.argv[3]) if len(sys.argv) > 4 else None
    known = read_known(sys.argv[4]) if len(sys.argv) > 4 else {}
    spf.DNSLookup = dns_lookup
    with open(path, encoding="ascii") as fp:
        docs = fp.read().split("---\n")
    total = agree = 0
    classes = {c: [] for c in known}
    unexplained = []
    for doc in docs:
        if not doc.strip():
            continue
        scen = json.loads(doc)
        ZONE = load_zone(scen.get("zonedata", {}))
        for tname, t in scen["tests"].items():
            name = "%s %s: %s" % (suite, scen["description"], tname)
            got = run(t)
            if ours is None:
                print("%s\t%s\t%s" % ((name,) + got))
                continue
            total += 1
            mine = ours.get(name, ("missing", ""))
            if mine == got:
                agree += 1
                continue
            for c in known:
                if c in PATCHES and run(t, c) == mine:
                    classes[c].append(name)
                    break
            else:
                both = combined([c for c in known if c in PATCHES])
                if both and run(t, both) == mine:
                    classes.setdefault(SEVERAL, []).append(name)
                    known.setdefault(SEVERAL, ["see each class"])
                else:
                    unexplained.append((name, got, mine))
    if ours is None:
        return 0
    tally = {}
    for res, _ in ours.values():
        tally[res] = tally.get(res, 0) + 1
    print("# smtpscope's results: " + ", ".join(
        "%s %d" % kv for kv in sorted(tally.items())))
    third = mail_spf(suite, path, [x for v in classes.values() for x in v])
    n = 0
    for c, cases in classes.items():
        n += 1
        sides = sum(1 for x in cases if third.get(x) == ours[x])
        print("ok %d - class %s: %d cases (follows the RFC: %s)%s%s" % (
            n, c, len(cases), known[c][0],
            "; Mail::SPF gives smtpscope's answer in %d" % sides
            if third else "", ", e.g. " + cases[0] if cases else ""))
    n += 1
    print("%s %d - %d of %d cases agree (%.2f%%), %d explained by a "
          "listed class, %d not" % (
              "ok" if not unexplained else "not ok", n, agree, total,
              100.0 * agree / max(total, 1), total - agree - len(unexplained),
              len(unexplained)))
    for name, got, mine in unexplained[:40]:
        print("#   %s: pyspf %s, smtpscope %s" % (name, "/".join(got),
                                                   "/".join(mine)))
    print("1..%d" % n)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
