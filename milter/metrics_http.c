/*
 * metrics_http.c - the optional HTTP endpoint (MetricsListen): Prometheus
 * text on /metrics, a health answer on /health, nothing else.
 *
 * The listening socket is bound as root before the privilege drop (a port
 * under 1024 is the administrator's choice); libmicrohttpd serves it from
 * its own thread after the drop. Hostile clients are bounded by
 * libmicrohttpd's limits set here: 32 connections (8 per address), 10 s
 * per connection, 16 KiB of request memory; only GET and HEAD are
 * answered, and a request with a body is refused. A failure to serve
 * never touches mail: the endpoint is separate from the milter.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "metrics_http.h"

#define METRICS_HTTP_CONNECTIONS	32
#define METRICS_HTTP_PER_IP		8
#define METRICS_HTTP_TIMEOUT_S		10
#define METRICS_HTTP_MEMORY		16384

static int metrics_http_fd = -1;
static struct MHD_Daemon *metrics_http_daemon;
static volatile int metrics_http_stopping;

/* metrics_http_split - "host:port" or "[v6]:port" into its two parts */
static int
metrics_http_split(const char *spec, char *host, size_t hostsz,
    const char **port)
{
	const char *colon, *end;
	size_t len;

	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		len = (size_t)(end - spec - 1);
		spec++;
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)))
			return -1;
		len = (size_t)(colon - spec);
	}
	if (len == 0 || len >= hostsz || colon[1] == '\0')
		return -1;
	memcpy(host, spec, len);
	host[len] = '\0';
	*port = colon + 1;
	return 0;
}

/* metrics_http_resolve - a numeric address and port, or -1 with why */
static int
metrics_http_resolve(const char *spec, struct addrinfo **ai, char *err,
    size_t errsz)
{
	struct addrinfo hints;
	char host[64];
	const char *port;
	long p;
	char *end;
	int rc;

	if (metrics_http_split(spec, host, sizeof(host), &port) != 0) {
		snprintf(err, errsz, "want ADDRESS:PORT or [IPV6]:PORT, "
		    "not '%s'", spec);
		return -1;
	}
	p = strtol(port, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535) {
		snprintf(err, errsz, "bad port '%s'", port);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, ai)) != 0) {
		snprintf(err, errsz, "bad address '%s': %s", host,
		    gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* metrics_http_check - is spec a usable MetricsListen value? */
int
metrics_http_check(const char *spec, char *err, size_t errsz)
{
	struct addrinfo *ai;

	if (metrics_http_resolve(spec, &ai, err, errsz) != 0)
		return -1;
	freeaddrinfo(ai);
	return 0;
}

/* metrics_http_bind - bind and listen (as root, before the drop) */
int
metrics_http_bind(const char *spec, char *err, size_t errsz)
{
	struct addrinfo *ai;
	int fd, one = 1;

	if (metrics_http_resolve(spec, &ai, err, errsz) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, METRICS_HTTP_CONNECTIONS) != 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	metrics_http_fd = fd;
	return 0;
}

/* metrics_http_reply - queue a response with a body of text */
static enum MHD_Result
metrics_http_reply(struct MHD_Connection *c, unsigned status,
    const char *type, char *body, size_t len, enum MHD_ResponseMemoryMode m)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, body, m);
	if (r == NULL) {
		if (m == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* metrics_http_text - a fixed text answer */
static enum MHD_Result
metrics_http_text(struct MHD_Connection *c, unsigned status, const char *t)
{
	return metrics_http_reply(c, status, "text/plain; charset=utf-8",
	    (char *)t, strlen(t), MHD_RESPMEM_PERSISTENT);
}

/* metrics_http_handler - one request: /metrics, /health, or an error */
static enum MHD_Result
metrics_http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	char *body;
	size_t len;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return metrics_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n");
	if (*con_cls == NULL) {		/* headers seen; a body may follow */
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size != 0)
		return MHD_NO;		/* a GET with a body: close */
	if (strcmp(url, "/health") == 0)
		return metrics_http_stopping ?
		    metrics_http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "stopping\n") : metrics_http_text(c, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/metrics") != 0)
		return metrics_http_text(c, MHD_HTTP_NOT_FOUND,
		    "not found: /metrics or /health\n");
	if (metrics_render(&body, &len) != 0)
		return metrics_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	return metrics_http_reply(c, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", body, len,
	    MHD_RESPMEM_MUST_FREE);
}

/* metrics_http_start - serve the bound socket (after the drop) */
int
metrics_http_start(char *err, size_t errsz)
{
	if (metrics_http_fd < 0)
		return 0;
	metrics_http_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD
	    | MHD_USE_EPOLL, 0, NULL, NULL, metrics_http_handler, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)metrics_http_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MEMORY,
	    MHD_OPTION_END);
	if (metrics_http_daemon == NULL) {
		snprintf(err, errsz, "cannot start the metrics endpoint");
		return -1;
	}
	return 0;
}

/* metrics_http_stopping - /health answers 503 from now on */
void
metrics_http_set_stopping(void)
{
	metrics_http_stopping = 1;
}

/* metrics_http_stop - stop serving and close the socket */
void
metrics_http_stop(void)
{
	if (metrics_http_daemon != NULL)
		MHD_stop_daemon(metrics_http_daemon);
	metrics_http_daemon = NULL;
	if (metrics_http_fd >= 0)
		close(metrics_http_fd);
	metrics_http_fd = -1;
}
