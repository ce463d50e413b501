# report_psl.py - organizational domains from the public suffix list
#
# Owns: the parsed rule sets of one public_suffix_list.dat (normal rules,
# wildcard rules "*.x", exception rules "!y.x") and the lookup that turns a
# host name into its organizational domain (public suffix plus one label),
# as https://publicsuffix.org/list/ describes the algorithm.
# Fails soft: when the list cannot be read, every name falls back to its
# last two labels (psl.source says which happened).
import os

PSL_DEFAULT = "/usr/share/publicsuffix/public_suffix_list.dat"


def _idna(label_text):
    """_idna - a rule in the ASCII (punycode) form that host names use."""
    try:
        return label_text.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return None


class PublicSuffixList:
    """PublicSuffixList - rule sets plus org_domain(); fallback without a file."""

    def __init__(self, path=PSL_DEFAULT):
        self.normal = set()
        self.wild = set()        # "x" for the rule "*.x"
        self.exc = set()         # "y.x" for the rule "!y.x"
        self.source = "fallback (last two labels)"
        if path and os.path.exists(path):
            try:
                self._load(path)
                self.source = path
            except OSError:
                pass

    def _load(self, path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                rule = line.split(None, 1)[0] if line.strip() else ""
                if not rule or rule.startswith("//"):
                    continue
                rule = rule.lower()
                forms = {rule}
                asc = _idna(rule.lstrip("!*.")) if not rule.isascii() else None
                if asc:
                    prefix = "!" if rule.startswith("!") else (
                        "*." if rule.startswith("*.") else "")
                    forms.add(prefix + asc)
                for r in forms:
                    if r.startswith("!"):
                        self.exc.add(r[1:])
                    elif r.startswith("*."):
                        self.wild.add(r[2:])
                    else:
                        self.normal.add(r)

    def suffix_len(self, labels):
        """suffix_len - number of labels of the public suffix of labels."""
        n = len(labels)
        best = 1                 # the implicit rule "*"
        for k in range(n, 0, -1):
            cand = ".".join(labels[n - k:])
            if cand in self.exc:
                return k - 1     # an exception rule always prevails
            if k > best:
                if cand in self.normal:
                    best = k
                elif k >= 2 and ".".join(labels[n - k + 1:]) in self.wild:
                    best = k
        return best

    def org_domain(self, name):
        """org_domain - organizational domain of name, or None."""
        if not name:
            return None
        name = name.strip().rstrip(".").lower()
        if not name or "." not in name:
            return None
        labels = name.split(".")
        if any(not lab for lab in labels):
            return None
        if not self.normal and not self.wild:
            return ".".join(labels[-2:])
        k = self.suffix_len(labels)
        if len(labels) <= k:
            return None          # the name is itself a public suffix
        return ".".join(labels[-(k + 1):])
