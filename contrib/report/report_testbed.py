# report_testbed.py - provider capabilities from a measurement test bed
#
# Owns: the --testbed file (which target tag proves or disproves which
# capability, smtpscope-report(1) TESTBED), the per-organization evidence
# gathered from the records (which targets it delivered to, TLS versions,
# greylisting retries, authentication results) and the inference that turns
# that evidence into one row per sending organization with one cell per
# capability: "yes", "no", "unknown" (the evidence does not decide) or
# "conflict" (two targets disagree). It never guesses: every target-derived
# cell is "unknown" unless the organization delivered to the baseline
# target, and a "no"/"yes" drawn from a missing delivery needs the control
# target to have been reached. Does not read records from disk or print.
# Memory: at most org_cap organizations, each with a fixed-bucket delay
# histogram and at most FIRST_CAP remembered first attempts.
# Design: docs/testbed.md.
from report_stats import Hist, dkim_best, _get

YES, NO, UNKNOWN, CONFLICT = "yes", "no", "unknown", "conflict"
# column order of the well-known capabilities; others follow in file order
KNOWN_CAPS = ("ipv6-delivery", "dnssec-validating", "resolver-ipv6-ns",
              "starttls", "validates-certs", "dane", "mta-sts")
DERIVED = ("tls-versions", "greylist-retry", "greylist-delay-median-s",
           "retry-other-address", "spf", "dkim", "dmarc")
KINDS = ("baseline", "proves", "disproves", "greylist")
FIRST_CAP = 10000


class TestbedError(ValueError):
    """TestbedError - a line of the --testbed file that cannot be used."""


class Spec:
    """Spec - the parsed --testbed file."""

    def __init__(self):
        self.baseline = None
        self.greylist = []           # greylisting target tags
        self.targets = []            # (tag, kind, capability, control tag)
        self.caps = []               # capability columns, in order

    def tags(self):
        out = [self.baseline] + [t[0] for t in self.targets] + self.greylist
        return [t for t in out if t]


def parse_spec(text):
    """parse_spec - lines "target TAG baseline|greylist" and
    "target TAG proves|disproves CAP [control TAG2]"; # comments."""
    spec = Spec()
    seen = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        where = "line %d: " % n
        if line[0] != "target" or len(line) < 3 or line[2] not in KINDS:
            raise TestbedError(where + "want 'target TAG baseline|greylist|proves CAP|"
                               "disproves CAP [control TAG]'")
        tag, kind = line[1], line[2]
        if tag in seen:
            raise TestbedError(where + "target %s given twice" % tag)
        seen.add(tag)
        if kind in ("baseline", "greylist"):
            if len(line) != 3:
                raise TestbedError(where + "'%s' takes no argument" % kind)
            if kind == "baseline":
                if spec.baseline:
                    raise TestbedError(where + "a second baseline target")
                spec.baseline = tag
            else:
                spec.greylist.append(tag)
            continue
        if len(line) not in (4, 6) or (len(line) == 6 and line[4] != "control"):
            raise TestbedError(where + "want '%s CAP [control TAG]'" % kind)
        cap = line[3]
        spec.targets.append((tag, kind, cap, line[5] if len(line) == 6 else None))
        if cap not in spec.caps:
            spec.caps.append(cap)
    if not spec.baseline:
        raise TestbedError("no 'target TAG baseline' line")
    known = [c for c in KNOWN_CAPS if c in spec.caps]
    spec.caps = known + [c for c in spec.caps if c not in known]
    return spec


def load_spec(path):
    with open(path, encoding="utf-8") as fh:
        return parse_spec(fh.read())


class Evidence:
    """Evidence - what the records say about one sending organization."""

    def __init__(self):
        self.delivered = set()       # target tags with an accepted message
        self.seen = set()            # target tags with any session or message
        self.tls = set()
        self.sessions = 0
        self.plain = 0
        self.auth = {"spf": {}, "dkim": {}, "dmarc": {}}
        self.first = {}              # (from, rcpt) -> (ip, family) of first attempt
        self.gl_first = 0            # first attempts at greylisting targets
        self.delays = Hist()         # passed retry delays (s)
        self.retried = False         # a passed retry (attempt > 1) was seen
        self.moved = False           # a retry came from another address/net
        self.stayed = False          # a retry came from the first address


class Testbed:
    """Testbed - collects Evidence per organization (at most org_cap)."""

    def __init__(self, spec, org_of, org_cap=10000):
        self.spec = spec
        self.org_of = org_of
        self.org_cap = org_cap
        self.tagset = set(spec.tags())
        self.gl_tags = set(spec.greylist)
        self.orgs = {}
        self.orgs_dropped = 0

    def _evidence(self, rec):
        sigs = _get(rec, "auth", "dkim")
        org = self.org_of(rec, sigs if isinstance(sigs, list) else None)
        ev = self.orgs.get(org)
        if ev is None:
            if len(self.orgs) >= self.org_cap:
                self.orgs_dropped += 1
                return None
            ev = self.orgs[org] = Evidence()
        return ev

    def add_record(self, rec):
        ev = self._evidence(rec)
        if ev is None:
            return
        tags = rec.get("tags")
        tags = {t for t in tags if isinstance(t, str)} & self.tagset \
            if isinstance(tags, list) else set()
        ev.seen |= tags
        if rec.get("event") == "session":
            ev.sessions += 1
            version = _get(rec, "tls", "version")
            if isinstance(version, str):
                ev.tls.add(version)
            elif rec.get("tls") is None:
                ev.plain += 1
            return
        if _get(rec, "disposition", "action") == "accept":
            ev.delivered |= tags
            self._auth(ev, rec)
        self._greylist(ev, rec, tags)

    @staticmethod
    def _auth(ev, rec):
        auth = rec.get("auth") if isinstance(rec.get("auth"), dict) else {}
        results = {"spf": _get(auth, "spf", "mailfrom", "result"),
                   "dmarc": _get(auth, "dmarc", "result")}
        sigs = auth.get("dkim")
        if isinstance(sigs, list):
            results["dkim"] = dkim_best(sigs)
        for k, r in results.items():
            if isinstance(r, str):
                ev.auth[k][r] = ev.auth[k].get(r, 0) + 1

    def _greylist(self, ev, rec, tags):
        entries = _get(rec, "greylist", "rcpt")
        if not isinstance(entries, list):
            return
        sender = _get(rec, "envelope", "from")
        client = (_get(rec, "client", "ip"), _get(rec, "client", "family"))
        for e in entries:
            if not isinstance(e, dict):
                continue
            key = (sender, e.get("rcpt"))
            attempt = e.get("attempt")
            if e.get("verdict") == "new":
                if key in ev.first or len(ev.first) < FIRST_CAP:
                    ev.first.setdefault(key, client)
                if tags & self.gl_tags:
                    ev.gl_first += 1
            elif (e.get("verdict") == "passed" and isinstance(attempt, int)
                  and not isinstance(attempt, bool) and attempt > 1):
                ev.retried = True
                ev.delays.add(e.get("delay_s"))
                first = ev.first.get(key)
                if e.get("via_chain") is True or (first is not None and first != client):
                    ev.moved = True
                elif first is not None:
                    ev.stayed = True

    # inference --------------------------------------------------------
    def _target_cells(self, ev):
        """_target_cells - capability -> (value, [reasons])."""
        spec = self.spec
        cells = {c: [] for c in spec.caps}
        base = spec.baseline in ev.delivered
        for tag, kind, cap, control in spec.targets:
            if not base:
                continue
            got = tag in ev.delivered
            if got:
                cells[cap].append((YES if kind == "proves" else NO, tag))
            elif control is None or control in ev.delivered:
                cells[cap].append((NO if kind == "proves" else YES, tag))
        out = {}
        for cap, votes in cells.items():
            values = {v for v, _ in votes}
            if not base:
                why = "no delivery to baseline target %s" % spec.baseline
                out[cap] = (UNKNOWN, why)
            elif not values:
                out[cap] = (UNKNOWN, "control target not reached")
            elif len(values) > 1:
                out[cap] = (CONFLICT, ", ".join("%s=%s" % (t, v) for v, t in votes))
            else:
                out[cap] = (values.pop(), ", ".join(t for _, t in votes))
        return out

    def _derived(self, ev):
        out = {}
        if ev.tls:
            out["tls-versions"] = " ".join(sorted(ev.tls))
        elif ev.sessions:
            out["tls-versions"] = "none"
        else:
            out["tls-versions"] = UNKNOWN
        out["greylist-retry"] = verdict(ev.retried, ev.gl_first)
        out["greylist-delay-median-s"] = ev.delays.percentile(50)
        out["retry-other-address"] = verdict(ev.moved, ev.stayed)
        for k in ("spf", "dkim", "dmarc"):
            d = ev.auth[k]
            out[k] = ", ".join("%s %d" % kv for kv in sorted(
                d.items(), key=lambda kv: (-kv[1], kv[0]))) if d else UNKNOWN
        return out

    def table(self):
        """table - the capability table as a JSON-ready dict."""
        rows = []
        for org in sorted(self.orgs):
            ev = self.orgs[org]
            if not ev.seen:
                continue                 # never touched a target: not a provider
            cells = self._target_cells(ev)
            row = {"org": org,
                   "targets_delivered": sorted(ev.delivered),
                   "baseline": YES if self.spec.baseline in ev.delivered else NO}
            for cap in self.spec.caps:
                row[cap] = cells[cap][0]
            row.update(self._derived(ev))
            row["evidence"] = {cap: cells[cap][1] for cap in self.spec.caps}
            rows.append(row)
        return {"baseline": self.spec.baseline,
                "targets": [{"tag": t, "kind": k, "capability": c, "control": ctl}
                            for t, k, c, ctl in self.spec.targets]
                + [{"tag": t, "kind": "greylist", "capability": "greylist-retry",
                    "control": None} for t in self.spec.greylist],
                "columns": ["baseline"] + list(self.spec.caps) + list(DERIVED),
                "orgs_dropped": self.orgs_dropped,
                "rows": rows}


def verdict(yes, no):
    """verdict - YES when the yes-evidence holds, else NO on no-evidence, else UNKNOWN."""
    return YES if yes else (NO if no else UNKNOWN)
