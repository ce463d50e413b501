/*
 * authres.h - RFC 8601 Authentication-Results: writing ours, and
 * recognising the ones already in a message.
 *
 * authres_build() writes the header value smtpscope adds: the
 * authserv-id, then one resinfo per method that ran (iprev, spf for
 * smtp.mailfrom and smtp.helo, dkim per signature with header.d,
 * header.s, header.a and header.b (first 8 characters, RFC 6008), dmarc
 * with header.from), "none" when nothing ran. Each resinfo goes on its
 * own folded line ("\n\t", as libmilter wants folding); values that are
 * not RFC 2045 tokens are quoted; comments carry the DNSSEC status and
 * reasons. Input comes from the network and is treated as hostile: the
 * header is printable ASCII and folding only; a property whose value is
 * not plain printable ASCII (or holds space or ; ( ) " \) is left out,
 * and in free text every other character becomes '?'.
 *
 * authres_servid() extracts the authserv-id of an existing header value
 * as RFC 8601 defines it (CFWS, comments and quoted strings allowed,
 * any case; EINVAL when anything but a version precedes the ';');
 * authres_claims() says whether a header claims a given authserv-id,
 * i.e. must be removed before ours is added (RFC 8601 §5): true when
 * any plausible reader would take it so (the first token or
 * quoted-string whatever follows it, or dot-joined pieces with CFWS
 * around the dots as OpenDKIM's ares.c reads them), any version.
 */
#ifndef SMTPSCOPE_AUTHRES_H
#define SMTPSCOPE_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/dkimverify.h"
#include "auth/dmarceval.h"
#include "dns/iprev.h"
#include "auth/spf.h"

#define AUTHRES_MAX	8192	/* bytes of a header value we write */

struct authres_input {
	const char *servid;		/* AuthservID */
	const char *client_ip;		/* for iprev's policy.iprev */
	const struct iprev_outcome *iprev;	/* NULL: not run */
	const struct spf_outcome *spf_mailfrom;	/* NULL: not run */
	const struct spf_outcome *spf_helo;	/* NULL: not run */
	const struct dkimverify_outcome *dkim;	/* NULL: not run */
	const struct dmarceval_outcome *dmarc;	/* NULL: not run */
};

/* authres_build - the header value (without the name) into out; 0,
 * SCOPE_ETOOBIG when it did not fit (then out holds whole resinfos only,
 * or "" when not even one fits), SCOPE_EINVAL for a NULL input or a
 * servid that is empty or over 255 bytes */
int authres_build(const struct authres_input *in, char *out, size_t outsz);

/* authres_servid_ok - servid can be written: 1 to 255 bytes of printable
 * ASCII without space or ; ( ) " \ (authres_build refuses others) */
bool authres_servid_ok(const char *servid);

/* authres_servid - authserv-id of a header value; 0, SCOPE_EINVAL when
 * the value does not parse, SCOPE_ETOOBIG when the id does not fit out
 * (out is then "") */
int authres_servid(const char *value, char *out, size_t outsz);

/* a value read back by authres_parse: its method/result pairs */
#define AUTHRES_PARSE_MAX	64	/* resinfos kept; more are counted */
struct authres_result {
	char method[32];
	char result[32];
};
struct authres_parsed {
	char servid[256];		/* unquoted, cut to fit */
	unsigned version;		/* 0: none given */
	bool none;			/* "servid; none" */
	unsigned n;			/* resinfos, may exceed the cap */
	struct authres_result r[AUTHRES_PARSE_MAX];
};

/* authres_parse - a whole header value by RFC 8601's grammar, printable
 * ASCII and folding only (authres_parse.c); 0 or SCOPE_EINVAL */
int authres_parse(const char *value, struct authres_parsed *out);

/* authres_claims - the header value names servid (case-insensitive) */
bool authres_claims(const char *value, const char *servid);

#endif
