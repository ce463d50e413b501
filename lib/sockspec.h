/*
 * sockspec.h - milter socket specifications as Postfix and Sendmail write them.
 *
 *   unix:/path  (or local:/path)   a UNIX-domain socket, absolute path
 *   inet:PORT[@HOST]               TCP over IPv4, HOST an IPv4 address or name
 *   inet6:PORT[@HOST]              TCP over IPv6, HOST an IPv6 address or name
 *
 * sockspec_parse() checks the form only; libmilter opens the socket.
 */
#ifndef SMTPSCOPE_SOCKSPEC_H
#define SMTPSCOPE_SOCKSPEC_H

#include <sys/un.h>

enum sockspec_kind { SOCKSPEC_UNIX, SOCKSPEC_INET, SOCKSPEC_INET6 };

struct sockspec {
	enum sockspec_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];
	unsigned port;
};

/* sockspec_parse - 0, or a negative code with *why saying what is wrong */
int sockspec_parse(const char *spec, struct sockspec *out, const char **why);

#endif
