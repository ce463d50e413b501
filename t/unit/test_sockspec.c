/*
 * test_sockspec.c - milter socket specifications.
 */
#include "errors.h"
#include "sockspec.h"
#include "tap.h"

int
main(void)
{
	struct sockspec s;
	const char *why;

	plan(10);
	ok(sockspec_parse("unix:/run/x.sock", &s, &why) == 0 &&
	    s.kind == SOCKSPEC_UNIX, "unix:/path parses");
	is_str(s.path, "/run/x.sock", "unix path is kept");
	ok(sockspec_parse("local:/run/x.sock", &s, &why) == 0, "local: is an alias");
	ok(sockspec_parse("unix:relative", &s, &why) != 0, "relative unix path is rejected");
	ok(sockspec_parse("inet:8891@127.0.0.1", &s, &why) == 0 &&
	    s.port == 8891, "inet:port@host parses");
	ok(sockspec_parse("inet6:8891@::1", &s, &why) == 0 &&
	    s.kind == SOCKSPEC_INET6, "inet6:port@v6 parses");
	ok(sockspec_parse("inet:0@127.0.0.1", &s, &why) != 0, "port 0 is rejected");
	ok(sockspec_parse("inet:70000", &s, &why) != 0, "port above 65535 is rejected");
	ok(sockspec_parse("inet:25@bad host", &s, &why) != 0, "host with space is rejected");
	ok(sockspec_parse("tcp:25", &s, &why) != 0, "unknown scheme is rejected");
	return done_testing();
}
