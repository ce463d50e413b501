# report_stats.py - streaming aggregation of smtpscope records
#
# Owns: the per-group counters (one group for all records, "*", and one per
# tag), the greylisting retry matcher and the per-organization table.
# Every structure has a fixed bound, so memory does not depend on the size
# of the input: histograms have fixed buckets, category counters and tables
# have caps (the rest is counted under "(other)"), and the table of pending
# first attempts evicts its oldest entries.
# Does not read files or print; add_record() takes one parsed record.
import math

OTHER = "(other)"
UNKNOWN = "(unknown)"
TLS_RANK = {"SSLv2": 1, "SSLv3": 2, "TLSv1.0": 3, "TLSv1.1": 4,
            "TLSv1.2": 5, "TLSv1.3": 6}


class Hist:
    """Hist - fixed-bucket histogram: exact below EXACT_MAX, log-scale above."""
    EXACT_MAX = 86400            # integer values 0..86400 are kept exactly
    RATIO = 1.01                 # above: buckets 1 % wide

    def __init__(self):
        self.exact = {}          # at most EXACT_MAX + 1 keys
        self.log = {}            # at most ~2100 keys (86400 .. 1e13)
        self.count = 0

    def add(self, v):
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            return
        if v != v or v < 0:
            return
        self.count += 1
        if v <= self.EXACT_MAX and float(v).is_integer():
            k = int(v)
            self.exact[k] = self.exact.get(k, 0) + 1
        else:
            v = min(max(v, 1e-3), 1e13)
            k = int(math.floor(math.log(v) / math.log(self.RATIO)))
            self.log[k] = self.log.get(k, 0) + 1

    def merge_items(self):
        items = [(float(k), c) for k, c in self.exact.items()]
        for k, c in self.log.items():
            # geometric middle of the bucket [R^k, R^(k+1))
            items.append((self.RATIO ** (k + 0.5), c))
        items.sort()
        return items

    def percentile(self, p):
        """percentile - nearest rank: smallest x with >= p % of values <= x."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(p / 100.0 * self.count))
        seen = 0
        for x, c in self.merge_items():
            seen += c
            if seen >= rank:
                return int(x) if x.is_integer() else round(x, 3)
        return None


class CappedCounter:
    """CappedCounter - counts per key for at most cap keys, then OTHER."""

    def __init__(self, cap):
        self.cap = cap
        self.d = {}

    def add(self, key, n=1):
        d = self.d
        if key in d:
            d[key] += n
        elif len(d) < self.cap:
            d[key] = n
        else:
            d[OTHER] = d.get(OTHER, 0) + n


def share(count, of):
    return {"count": count, "of": of,
            "share": (round(count / of, 6) if of else None)}


def shares(counter, of):
    return {"of": of,
            "results": dict(sorted(counter.d.items(), key=lambda kv: (-kv[1], kv[0]))),
            "shares": {k: round(v / of, 6) if of else None
                       for k, v in sorted(counter.d.items(), key=lambda kv: (-kv[1], kv[0]))}}


def dkim_best(sigs):
    """dkim_best - one result per message: pass > fail > first signature's."""
    if not sigs:
        return "none"
    results = [s.get("result") if isinstance(s, dict) else None for s in sigs]
    if "pass" in results:
        return "pass"
    if "fail" in results:
        return "fail"
    r = results[0]
    return r if isinstance(r, str) else UNKNOWN


class Group:
    """Group - every metric of one slice of the records (all, or one tag)."""

    def __init__(self, cat_cap):
        self.sessions = 0
        self.messages = 0
        self.s_family_known = 0
        self.s_ipv6 = 0
        self.s_tls = 0
        self.s_cert = 0
        self.tls_version = CappedCounter(cat_cap)
        self.tls_cipher = CappedCounter(cat_cap)
        self.spf = CappedCounter(cat_cap)
        self.dkim = CappedCounter(cat_cap)
        self.dmarc = CappedCounter(cat_cap)
        self.iprev = CappedCounter(cat_cap)
        self.n_spf = self.n_dkim = self.n_dmarc = self.n_iprev = 0
        self.sec_spf = self.sec_dmarc = self.sec_dkim = self.n_dkim_signed = 0
        self.gl_entries = 0
        self.gl_verdicts = CappedCounter(cat_cap)
        self.gl_new = 0
        self.gl_retries = 0      # passed with attempt > 1
        self.gl_matched = 0      # first attempts whose retry was seen
        self.gl_chain = 0
        self.gl_cross = 0
        self.gl_delay = Hist()

    def to_dict(self):
        return {
            "sessions": self.sessions,
            "messages": self.messages,
            "ipv6": share(self.s_ipv6, self.s_family_known),
            "tls": share(self.s_tls, self.sessions),
            "tls_version": shares(self.tls_version, self.s_tls),
            "tls_cipher": shares(self.tls_cipher, self.s_tls),
            "client_cert": share(self.s_cert, self.s_tls),
            "spf": shares(self.spf, self.n_spf),
            "dkim": shares(self.dkim, self.n_dkim),
            "dmarc": shares(self.dmarc, self.n_dmarc),
            "iprev": shares(self.iprev, self.n_iprev),
            "dnssec": {
                "spf": share(self.sec_spf, self.n_spf),
                "dmarc": share(self.sec_dmarc, self.n_dmarc),
                "dkim": share(self.sec_dkim, self.n_dkim_signed),
            },
            "greylist": {
                "entries": self.gl_entries,
                "verdicts": dict(sorted(self.gl_verdicts.d.items())),
                "first_attempts": self.gl_new,
                "passed_retries": self.gl_retries,
                "retry_ratio": share(self.gl_retries, self.gl_new),
                "retried": share(self.gl_matched, self.gl_new),
                "delay_s": {"count": self.gl_delay.count,
                            "median": self.gl_delay.percentile(50),
                            "p90": self.gl_delay.percentile(90)},
                "via_chain": share(self.gl_chain, self.gl_retries),
                "cross_family": share(self.gl_cross, self.gl_chain),
            },
        }


def _str(v):
    """_str - v when it is a string, else None (keys must be hashable)"""
    return v if isinstance(v, str) else None


def _get(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


class Aggregator:
    """Aggregator - feeds records into groups, the retry matcher, the orgs."""

    def __init__(self, psl, tag_cap=1000, cat_cap=1000, org_cap=10000,
                 pending_cap=1000000):
        self.psl = psl
        self.tag_cap = tag_cap
        self.cat_cap = cat_cap
        self.org_cap = org_cap
        self.pending_cap = pending_cap
        self.groups = {"*": Group(cat_cap)}
        self.tags_other = False
        self.pending = {}        # (net, from, rcpt) -> tuple of groups
        self.pending_evicted = 0
        self.orgs = {}           # org -> [messages, ipv6, tls rank, retried, dkim pass]
        self.orgs_pruned = [0, False, 0, False, False]
        self.orgs_prunes = 0

    # groups ---------------------------------------------------------
    def _groups_of(self, rec):
        out = [self.groups["*"]]
        tags = rec.get("tags")
        if isinstance(tags, list):
            seen = set()
            for t in tags:
                if not isinstance(t, str) or t in seen:
                    continue
                seen.add(t)
                g = self.groups.get(t)
                if g is None:
                    if len(self.groups) - 1 < self.tag_cap:
                        g = self.groups[t] = Group(self.cat_cap)
                    else:
                        g = self.groups.get(OTHER)
                        if g is None:
                            g = self.groups[OTHER] = Group(self.cat_cap)
                        if g in out:
                            continue
                out.append(g)
        return out

    def add_record(self, rec):
        ev = rec.get("event")
        groups = self._groups_of(rec)
        if ev == "session":
            self._session(rec, groups)
        else:
            self._message(rec, groups)

    def _session(self, rec, groups):
        fam = _get(rec, "client", "family")
        tls = rec.get("tls")
        tls = tls if isinstance(tls, dict) else None
        for g in groups:
            g.sessions += 1
            if fam in ("ipv4", "ipv6"):
                g.s_family_known += 1
                if fam == "ipv6":
                    g.s_ipv6 += 1
            if tls is not None:
                g.s_tls += 1
                v = tls.get("version")
                g.tls_version.add(v if isinstance(v, str) else UNKNOWN)
                c = tls.get("cipher")
                g.tls_cipher.add(c if isinstance(c, str) else UNKNOWN)
                if tls.get("peer") is not None:
                    g.s_cert += 1

    def _message(self, rec, groups):
        auth = rec.get("auth")
        auth = auth if isinstance(auth, dict) else {}
        spf = _get(auth, "spf", "mailfrom")
        spf = spf if isinstance(spf, dict) else None
        sigs = auth.get("dkim")
        sigs = sigs if isinstance(sigs, list) else None
        dkim = dkim_best(sigs) if sigs is not None else None
        dkim_sec = sigs is not None and any(
            isinstance(s, dict) and s.get("dnssec") == "secure" for s in sigs)
        dmarc = auth.get("dmarc")
        dmarc = dmarc if isinstance(dmarc, dict) else None
        iprev = auth.get("iprev")
        iprev = iprev if isinstance(iprev, dict) else None
        for g in groups:
            g.messages += 1
            if spf is not None:
                g.n_spf += 1
                g.spf.add(str(spf.get("result")))
                if spf.get("dnssec") == "secure":
                    g.sec_spf += 1
            if dkim is not None:
                g.n_dkim += 1
                g.dkim.add(dkim)
                if sigs:
                    g.n_dkim_signed += 1
                    if dkim_sec:
                        g.sec_dkim += 1
            if dmarc is not None:
                g.n_dmarc += 1
                g.dmarc.add(str(dmarc.get("result")))
                if dmarc.get("dnssec") == "secure":
                    g.sec_dmarc += 1
            if iprev is not None:
                g.n_iprev += 1
                g.iprev.add(str(iprev.get("result")))
        retried = self._greylist(rec, groups)
        self._org(rec, sigs, dkim, retried)

    # greylisting ----------------------------------------------------
    def _greylist(self, rec, groups):
        entries = _get(rec, "greylist", "rcpt")
        if not isinstance(entries, list):
            return False
        sender = _str(_get(rec, "envelope", "from"))
        fam = _get(rec, "client", "family")
        retried_any = False
        for e in entries:
            if not isinstance(e, dict):
                continue
            verdict = e.get("verdict")
            attempt = e.get("attempt")
            for g in groups:
                g.gl_entries += 1
                g.gl_verdicts.add(verdict if isinstance(verdict, str) else UNKNOWN)
            if verdict == "new":
                for g in groups:
                    g.gl_new += 1
                key = (_str(e.get("net")), sender, _str(e.get("rcpt")))
                if key in self.pending:
                    del self.pending[key]          # re-insert as newest
                elif len(self.pending) >= self.pending_cap:
                    del self.pending[next(iter(self.pending))]
                    self.pending_evicted += 1
                self.pending[key] = groups
            elif (verdict == "passed" and isinstance(attempt, int)
                  and not isinstance(attempt, bool) and attempt > 1):
                retried_any = True
                chain = e.get("chain")
                chain = chain if isinstance(chain, list) else []
                via = e.get("via_chain") is True
                cross = via and any(isinstance(c, dict) and c.get("family") not in (None, fam)
                                    for c in chain)
                for g in groups:
                    g.gl_retries += 1
                    g.gl_delay.add(e.get("delay_s"))
                    if via:
                        g.gl_chain += 1
                        if cross:
                            g.gl_cross += 1
                nets = [_str(e.get("net"))] + [_str(c.get("net")) for c in chain
                                               if isinstance(c, dict)]
                for net in nets:
                    first = self.pending.pop((net, sender, _str(e.get("rcpt"))), None)
                    if first is not None:
                        for g in first:
                            g.gl_matched += 1
                        break
        return retried_any

    # organizations --------------------------------------------------
    def org_of(self, rec, sigs):
        """org_of - organizational domain of PTR, else HELO, else DKIM d=."""
        client = rec.get("client") if isinstance(rec.get("client"), dict) else {}
        ptr = client.get("ptr")
        if isinstance(ptr, str):
            o = self.psl.org_domain(ptr)
            if o:
                return o
        helo = client.get("helo")
        if isinstance(helo, str) and not helo.startswith("[") and ":" not in helo \
                and not helo.replace(".", "").isdigit():
            o = self.psl.org_domain(helo)
            if o:
                return o
        for s in sigs or ():
            if isinstance(s, dict) and isinstance(s.get("d"), str):
                o = self.psl.org_domain(s["d"])
                if o:
                    return o
        return UNKNOWN

    def _org(self, rec, sigs, dkim, retried):
        org = self.org_of(rec, sigs)
        row = self.orgs.get(org)
        if row is None:
            if len(self.orgs) >= 2 * self.org_cap:
                self._prune_orgs()
            row = self.orgs[org] = [0, False, 0, False, False]
        row[0] += 1
        if _get(rec, "client", "family") == "ipv6":
            row[1] = True
        tls = rec.get("tls")
        if isinstance(tls, dict):
            # TLS of a version not in TLS_RANK ranks 0.5: "unknown"
            row[2] = max(row[2], TLS_RANK.get(_str(tls.get("version")), 0.5))
        if retried:
            row[3] = True
        if dkim == "pass":
            row[4] = True

    def _prune_orgs(self):
        """_prune_orgs - keep the org_cap largest, fold the rest into OTHER."""
        self.orgs_prunes += 1
        ranked = sorted(self.orgs.items(), key=lambda kv: -kv[1][0])
        keep = dict(ranked[:self.org_cap])
        for _, row in ranked[self.org_cap:]:
            self._fold(self.orgs_pruned, row)
        self.orgs = keep

    @staticmethod
    def _fold(acc, row):
        acc[0] += row[0]
        acc[1] = acc[1] or row[1]
        acc[2] = max(acc[2], row[2])
        acc[3] = acc[3] or row[3]
        acc[4] = acc[4] or row[4]

    def org_table(self, limit):
        """org_table - the limit largest orgs, then OTHER for all the rest."""
        names = {v: k for k, v in TLS_RANK.items()}
        ranked = sorted(self.orgs.items(), key=lambda kv: (-kv[1][0], kv[0]))
        rows = []
        other = list(self.orgs_pruned)
        for i, (org, row) in enumerate(ranked):
            if i < limit:
                rows.append((org, row))
            else:
                self._fold(other, row)
        if other[0]:
            rows.append((OTHER, other))
        out = []
        for org, r in rows:
            out.append({"org": org, "messages": r[0], "ipv6": r[1],
                        "best_tls": names.get(r[2], "unknown" if r[2] else "none"),
                        "greylist_retried": r[3], "dkim_pass": r[4]})
        return out
