/*
 * sockspec.c - parse and check milter socket specifications.
 */
#include <arpa/inet.h>
#include <string.h>

#include "errors.h"
#include "sockspec.h"
#include "text.h"

/* sockspec_host_ok - an address literal of the family, or a host name */
static int
sockspec_host_ok(const char *host, enum sockspec_kind kind)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *p;

	if (kind == SOCKSPEC_INET && inet_pton(AF_INET, host, buf) == 1)
		return 1;
	if (kind == SOCKSPEC_INET6 && inet_pton(AF_INET6, host, buf) == 1)
		return 1;
	if (*host == '\0' || strlen(host) > 253)
		return 0;
	for (p = host; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-", *p) == NULL)
			return 0;
	return 1;
}

/* sockspec_parse_unix - the path part of unix:/path */
static int
sockspec_parse_unix(const char *path, struct sockspec *out, const char **why)
{
	if (path[0] != '/') {
		*why = "UNIX socket path must be absolute";
		return SCOPE_EINVAL;
	}
	if (strlen(path) >= sizeof(out->path)) {
		*why = "UNIX socket path too long";
		return SCOPE_ETOOBIG;
	}
	out->kind = SOCKSPEC_UNIX;
	strcpy(out->path, path);	/* length checked above */
	return SCOPE_OK;
}

/* sockspec_parse_inet - the PORT[@HOST] part of inet: and inet6: */
static int
sockspec_parse_inet(const char *rest, enum sockspec_kind kind,
    struct sockspec *out, const char **why)
{
	char port[8];
	const char *at = strchr(rest, '@');
	size_t plen = at != NULL ? (size_t)(at - rest) : strlen(rest);
	long v;

	if (plen == 0 || plen >= sizeof(port)) {
		*why = "bad port";
		return SCOPE_EINVAL;
	}
	memcpy(port, rest, plen);
	port[plen] = '\0';
	if (text_parse_long(port, 10, 1, 65535, &v) != SCOPE_OK) {
		*why = "port must be a number from 1 to 65535";
		return SCOPE_ERANGE;
	}
	out->kind = kind;
	out->port = (unsigned)v;
	out->host[0] = '\0';
	if (at != NULL) {
		if (!sockspec_host_ok(at + 1, kind)) {
			*why = "bad host";
			return SCOPE_EINVAL;
		}
		strcpy(out->host, at + 1);	/* at most 253 bytes, checked */
	}
	return SCOPE_OK;
}

/* sockspec_parse - check a socket specification */
int
sockspec_parse(const char *spec, struct sockspec *out, const char **why)
{
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "unix:", 5) == 0)
		return sockspec_parse_unix(spec + 5, out, why);
	if (strncmp(spec, "local:", 6) == 0)
		return sockspec_parse_unix(spec + 6, out, why);
	if (strncmp(spec, "inet:", 5) == 0)
		return sockspec_parse_inet(spec + 5, SOCKSPEC_INET, out, why);
	if (strncmp(spec, "inet6:", 6) == 0)
		return sockspec_parse_inet(spec + 6, SOCKSPEC_INET6, out, why);
	*why = "expected unix:/path, inet:port@host or inet6:port@host";
	return SCOPE_EINVAL;
}
