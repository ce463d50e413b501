#!/usr/bin/python3
# psl-gen.py - generated names for the organizational-domain differential
# test (smtpscope's dmarceval against libpsl), seeded.
#
# Usage: psl-gen.py SEED COUNT PSL-FILE > names
# One name per line, UTF-8. Names are built around rules of the list
# itself, picked at random: a normal rule with 0..3 labels in front, a
# wildcard rule (*.ck) with the * filled in and 0..2 more labels, an
# exception rule (!www.ck) as it is and with labels in front, plus names
# under TLDs the list does not know. Rules and labels with non-ASCII
# characters are written as U-labels (as the list has them) and as
# A-labels (xn--, RFC 3492 Punycode from the standard library), and
# some ASCII labels in front are U-labels (bücher); some names get
# upper-case ASCII letters or a trailing dot. Standard library only.
import random
import sys

ASCII_LABELS = ["www", "mail", "a", "b1", "example", "foo-bar", "x", "shop",
                "_dmarc", "test", "co", "com", "blogspot"]
U_LABELS = ["bücher", "münchen", "пример", "例え", "δοκιμή", "café"]


def a_label(label):
    """the A-label of a U-label (lowercase NFC input, as in the list)"""
    if label.isascii():
        return label
    return "xn--" + label.encode("punycode").decode("ascii")


def to_a(name):
    return ".".join(a_label(l) for l in name.split("."))


def read_rules(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("//"):
                rules.append(line.split()[0])
    return rules


def labels(rnd, n):
    out = []
    for _ in range(n):
        out.append(rnd.choice(U_LABELS) if rnd.random() < 0.15 else
                   rnd.choice(ASCII_LABELS))
    return out


def name_for(rnd, rule):
    if rule.startswith("!"):
        base = rule[1:]
        front = labels(rnd, rnd.randrange(0, 3))
    elif rule.startswith("*."):
        base = labels(rnd, 1)[0] + rule[1:]
        front = labels(rnd, rnd.randrange(0, 3))
    else:
        base = rule
        front = labels(rnd, rnd.choice([0, 1, 1, 2, 3]))
    return ".".join(front + [base])


def variant(rnd, name):
    r = rnd.random()
    if r < 0.35:
        name = to_a(name)                   # A-labels
    if rnd.random() < 0.1:
        name = "".join(c.upper() if c.isascii() and rnd.random() < 0.5
                       else c for c in name)
    if rnd.random() < 0.05:
        name += "."
    return name


def main():
    seed, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)
    rules = read_rules(path)
    idn = [r for r in rules if not r.isascii()]
    for _ in range(count):
        r = rnd.random()
        if r < 0.05:
            name = ".".join(labels(rnd, rnd.randrange(0, 3)) +
                            ["notatld" + str(rnd.randrange(10))])
        elif r < 0.3:
            name = name_for(rnd, rnd.choice(idn))
        elif r < 0.45:
            name = name_for(rnd, rnd.choice([x for x in rules
                                              if x[0] in "*!"]))
        else:
            name = name_for(rnd, rnd.choice(rules))
        print(variant(rnd, name))


if __name__ == "__main__":
    main()
