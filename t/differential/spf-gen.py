#!/usr/bin/env python3
"""spf-gen.py - seeded random SPF cases in the OpenSPF YAML suite format.

Usage: spf-gen.py SEED COUNT > cases.yml

Each case is one scenario (a YAML document) with its own zonedata and one
test: records using every mechanism and modifier (all, include, a, mx,
ptr, ip4, ip6, exists, redirect, exp, unknown modifiers), macros in
domain-specs and explanations, include and redirect chains, void lookups,
the 10-lookup limit, IPv4 and IPv6 clients, CNAMEs, syntax errors, TXT
records of several strings, several SPF records, timeouts. Both
smtpscope (t/conformance/spf_suite with SPF_SUITE_DUMP) and pyspf
(spf-pyspf.py) read the same file. Every test accepts every result: the
file carries no verdict; spf-compare.py compares the two sides.

Each test also lists "features": what the case uses that a documented
difference (spf-known-differences.txt) may be about. Standard library
only; the same seed gives the same file.
"""
import json
import random
import sys

IP4 = ["192.0.2.1", "192.0.2.2", "198.51.100.5", "203.0.113.9"]
IP6 = ["2001:db8::1", "2001:db8::2", "2001:db8:1::5"]
LOCALS = ["joel", "strong-bad", "first.last", "x+tag", "user=1", "a_b",
          "a/b", "c,d", "someuser", "postmaster", "a-b+c.d", "x/24"]
RESULTS = ["none", "neutral", "pass", "fail", "softfail", "temperror",
           "permerror"]
LETTERS = "slodihv"
DELIMS = ".-+,/_="
QUAL = ["", "", "", "+", "-", "~", "?"]


class Case:
    """One scenario being built."""

    def __init__(self, rnd, n, client, local):
        self.rnd = rnd
        self.n = n
        self.client = client
        self.local = local
        self.zone = {}
        self.features = set()
        self.published = set()
        self.names = ["d%d.c%d.test" % (i, n) for i in range(8)]
        self.hosts = ["h%d.c%d.test" % (i, n) for i in range(4)]

    def add(self, name, entry):
        self.zone.setdefault(name, []).append(entry)

    def dom(self):
        return self.rnd.choice(self.names)

    def macro(self):
        r = self.rnd
        letter = r.choice(LETTERS + "p" if r.random() < 0.1 else LETTERS)
        if r.random() < 0.15:
            letter = letter.upper()
            self.features.add("macro-url")
        digits = r.choice(["", "", "1", "2", "3", "5", "127"])
        rev = r.choice(["", "r"])
        delims = "".join(r.sample(DELIMS, r.choice([0, 0, 1, 1, 2])))
        if delims and letter.lower() not in "ls":
            self.features.add("macro-delim-%s" % letter.lower())
        return "%%{%s%s%s%s}" % (letter, digits, rev, delims)

    def spec(self, cur, allow_macro=True):
        """a domain-spec: a name of the case, or macros then a name; half
        the names macros expand to (by the RFC's rules) exist"""
        r = self.rnd
        if allow_macro and r.random() < 0.25:
            self.features.add("macro")
            parts = [self.macro() for _ in range(r.choice([1, 1, 2]))]
            base = r.choice(["m.c%d.test" % self.n, self.dom()])
            if any(p[2] in "pP" for p in parts):
                return ".".join(parts) + "." + base
            name = ".".join(expand(p, self, cur) for p in parts) + "." + base
            if r.random() < 0.5 and valid_name(name):
                self.add(name.lower(), {"A": "127.0.0.2"})
            return ".".join(parts) + "." + base
        return self.dom()

    def cidr(self, six):
        r = self.rnd
        if r.random() < 0.7:
            return ""
        return "/%d" % (r.choice([0, 8, 24, 31, 32]) if not six else
                        r.choice([0, 32, 64, 127, 128]))

    def term(self, cur, depth):
        r = self.rnd
        q = r.choice(QUAL)
        kind = "bad" if r.random() < 0.015 else r.choice([
            "ip4", "ip4", "ip6", "a", "a", "mx", "mx", "ptr", "exists",
            "exists", "include", "include", "all"])
        if kind == "ip4":
            return q + "ip4:" + r.choice(IP4) + self.cidr(False)
        if kind == "ip6":
            return q + "ip6:" + r.choice(IP6) + self.cidr(True)
        if kind in ("a", "mx"):
            t = q + kind
            if r.random() < 0.6:
                t += ":" + self.spec(cur)
            if r.random() < 0.3:
                t += self.cidr(False)
            if r.random() < 0.2:
                t += "/" + self.cidr(True)
            if t.endswith("//"):
                t = t[:-2]
            return t
        if kind == "ptr":
            self.features.add("ptr")
            return q + "ptr" + (":" + self.spec(cur, False)
                                if r.random() < 0.5 else "")
        if kind == "exists":
            return q + "exists:" + self.spec(cur)
        if kind == "include":
            d = self.spec(cur, r.random() < 0.2)
            if depth < 3:
                self.record(d if "%" not in d else self.dom(), depth + 1)
            if r.random() < 0.05 and "%" not in d:
                d += "."    # a trailing dot: the same name
            return q + "include:" + d
        if kind == "all":
            return q + "all"
        self.features.add("syntax")
        return r.choice(["ip4:300.1.1.1", "a:", "foo:bar", "ip6:1::2::3",
                         "exists:%{x}.test", "mx/33", "ip4:1.2.3.4/033",
                         "include", "a:foo", "ptr:%{c}.test",
                         "exists:a.%{d0}.test", "all:x"])

    def record(self, domain, depth):
        """publish a record at domain (unless it has one)"""
        r = self.rnd
        if any(isinstance(e, dict) and ("TXT" in e or "SPF" in e)
               for e in self.zone.get(domain, [])):
            return
        if any(e == "TIMEOUT" for e in self.zone.get(domain, [])) or \
                domain in self.published:
            return
        self.published.add(domain)    # includes may come back here
        many = r.random() < 0.05    # near or over the 10-lookup limit
        if many:
            self.features.add("many-lookups")
        terms = [self.term(domain, depth) for _ in
                 range(r.choice([9, 10, 11, 12]) if many else
                       r.choice([1, 2, 3, 4, 6]))]
        if r.random() < 0.15:
            terms.append(r.choice(["foo=bar", "moo.cow=x%{d}", "v2=%{i}"]))
        if r.random() < 0.2:
            target = self.dom()
            terms.append("redirect=" + target)
            if depth < 3:
                self.record(target, depth + 1)
        if r.random() < 0.25:
            e = "exp.c%d.test" % self.n
            terms.append("exp=" + e)
            if e not in self.zone:
                self.features.add("exp")
                self.add(e, {"TXT": r.choice([
                    "denied for %{s} from %{i}", "%{l} %{o} %{d} %{h}",
                    "%{ir}.%{v} %{d2} %{l1r-}", "See %{S} and %{L}",
                    "%{c} %{r} %{p}", "%% %_ %-", "plain text"])})
        text = " ".join(["v=spf1"] + terms)
        if r.random() < 0.1:
            self.features.add("multi-string")
            cut = r.randrange(6, len(text) + 1)
            self.add(domain, {"TXT": [text[:cut], text[cut:]]})
        else:
            self.add(domain, {"TXT": text})
        if r.random() < 0.04:
            self.add(domain, {"TXT": "v=spf1 ~all"})
            self.features.add("multiple-records")
        if r.random() < 0.05:
            self.add(domain, {"TXT": "some other text"})

    def hosts_and_names(self, client):
        """addresses, MX, PTR, CNAME and timeouts for the names"""
        r = self.rnd
        for name in self.names + self.hosts + ["m.c%d.test" % self.n]:
            if name in self.zone and r.random() < 0.5:
                continue
            roll = r.random()
            if roll < 0.05 and name not in self.zone:
                self.add(name, "TIMEOUT")
                self.features.add("timeout")
                continue
            if roll < 0.12 and name not in self.zone:
                self.add(name, {"CNAME": r.choice(self.hosts)})
                self.features.add("cname")
                continue
            if roll < 0.3:
                continue    # no address: void for a, NXDOMAIN or no data
            pool = IP4 + IP6 + [client, client]
            for ip in r.sample(pool, r.choice([1, 1, 2])):
                self.add(name, {"AAAA" if ":" in ip else "A": ip})
            if r.random() < 0.3:
                self.add(name, {"MX": [10, r.choice(self.hosts)]})
        if r.random() < 0.4:
            self.features.add("ptr")
            rev = reverse_name(client)
            self.add(rev, {"PTR": r.choice(self.hosts + self.names)})


def reverse_name(ip):
    if ":" not in ip:
        return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
    import ipaddress
    nib = ipaddress.IPv6Address(ip).exploded.replace(":", "")
    return ".".join(reversed(nib)) + ".ip6.arpa"


def expand(macro, case, cur):
    """RFC 7208 7.3 for one %{...} of a domain-spec"""
    letter, rest = macro[2], macro[3:-1]
    digits = "".join(ch for ch in rest if ch.isdigit())
    rest = rest[len(digits):]
    rev = rest.startswith("r")
    delims = rest[1:] if rev else rest
    value = {"s": case.local + "@" + case.names[0], "l": case.local,
             "o": case.names[0], "d": cur, "h": case.helo,
             "v": "ip6" if ":" in case.client else "in-addr",
             "i": ip_dots(case.client)}[letter.lower()]
    parts, cur_part = [], ""
    for ch in value:
        if ch in (delims or "."):
            parts.append(cur_part)
            cur_part = ""
        else:
            cur_part += ch
    parts.append(cur_part)
    if rev:
        parts.reverse()
    if digits and int(digits) < len(parts):
        parts = parts[-int(digits):]
    out = ".".join(parts)
    if letter.isupper():
        out = "".join(ch if ch.isalnum() or ch in "-._~" else
                      "%%%02X" % ord(ch) for ch in out)
    return out


def ip_dots(ip):
    if ":" not in ip:
        return ip
    return ".".join(reversed(reverse_name(ip).split(".")[:32]))


def valid_name(name):
    labels = name.split(".")
    return len(name) <= 253 and all(0 < len(x) < 64 for x in labels) and \
        all(ch.isalnum() or ch in "-_" for ch in name.replace(".", ""))


def make_case(rnd, n):
    client = rnd.choice(IP4 + IP6)
    local = rnd.choice(LOCALS)
    domain = "d0.c%d.test" % n
    helo = rnd.choice(["h0.c%d.test" % n, domain])
    null = helo == domain and rnd.random() < 0.1  # the HELO identity
    c = Case(rnd, n, client, "postmaster" if null else local)
    c.helo = helo
    c.record(domain, 0)
    c.hosts_and_names(client)
    test = {"host": client, "helo": helo,
            "mailfrom": "" if null else local + "@" + domain,
            "result": RESULTS, "features": sorted(c.features)}
    return {"description": "c%d" % n, "tests": {"c%d" % n: test},
            "zonedata": c.zone}


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(seed)
    out = sys.stdout
    for n in range(count):
        out.write("---\n")
        out.write(json.dumps(make_case(rnd, n), ensure_ascii=True))
        out.write("\n")


if __name__ == "__main__":
    main()
