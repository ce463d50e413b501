#!/usr/bin/python3
# psl-compare.py - smtpscope's organizational domains against libpsl's
# registrable domains (psl --print-reg-domain), as TAP.
#
# Usage: psl-compare.py OURS PSL KNOWN-DIFFERENCES
# OURS: NAME<TAB>ORG lines from psl-orgdomain ("-": none); PSL: psl's
# "NAME: DOMAIN" lines ("(null)": none), in the same order.
#
# Both answers are compared in one form: lower case, A-labels (libpsl
# answers U-labels for U-label input; smtpscope always answers A-labels),
# no trailing dot. A disagreement is put in a class by classify(); a
# class listed in KNOWN-DIFFERENCES (CLASS<TAB>WHO FOLLOWS THE RFC<TAB>
# REASON) is documented, anything else fails the test.
import collections
import sys


def a_form(name):
    if name in ("-", "(null)"):
        return None
    out = []
    for label in name.lower().split("."):
        if not label.isascii():
            label = "xn--" + label.encode("punycode").decode("ascii")
        out.append(label)
    return ".".join(out)


def classify(name, ours, theirs):
    """the class of one disagreement (docs/dkim-conformance.md)"""
    if name.endswith("."):
        return "trailing-dot"
    if theirs is None and ours == a_form(name.rstrip(".")):
        return "public-suffix-itself"
    return "unclassified"


def main():
    ours_path, psl_path, known_path = sys.argv[1:4]
    with open(ours_path, encoding="utf-8") as f:
        ours = [l.rstrip("\n").split("\t") for l in f]
    with open(psl_path, encoding="utf-8") as f:
        theirs = [l.rstrip("\n").rsplit(": ", 1) for l in f]
    known = set()
    with open(known_path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                known.add(line.split("\t")[0])
    tap = []

    def point(ok, what):
        tap.append(ok)
        print("%s %d - %s" % ("ok" if ok else "not ok", len(tap), what))

    point(len(ours) == len(theirs) and len(ours) > 0,
          "%d names, an answer from both sides for each" % len(ours))
    agree, classes, bad = 0, collections.Counter(), []
    idn = sum(1 for n, _ in ours if not n.isascii() or "xn--" in n.lower())
    for (name, o), (_, t) in zip(ours, theirs):
        o, t = a_form(o), a_form(t)
        if o == t:
            agree += 1
            continue
        cls = classify(name, o, t)
        classes[cls] += 1
        if cls not in known:
            bad.append((name, o, t, cls))
    print("# %d names (%d with IDN labels); agreement %d/%d (%.2f%%); "
          "classes: %s" % (len(ours), idn, agree, len(ours),
                           100.0 * agree / max(len(ours), 1),
                           dict(sorted(classes.items())) or "none"))
    for name, o, t, cls in bad[:40]:
        print("#   %s: smtpscope %s, libpsl %s [%s]" % (name, o, t, cls))
    point(not bad, "smtpscope vs libpsl: %d undocumented disagreements" %
          len(bad))
    point(idn >= len(ours) // 10, "at least 10% of the names have IDN labels")
    print("1..%d" % len(tap))
    return 0 if all(tap) else 1


if __name__ == "__main__":
    sys.exit(main())
