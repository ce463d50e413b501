/*
 * metrics_http.h - the MetricsListen endpoint (libmicrohttpd): /metrics in
 * the Prometheus text format, /health. Off unless MetricsListen is set.
 * Each function returns 0, or -1 with a message in err.
 */
#ifndef SMTPSCOPE_METRICS_HTTP_H
#define SMTPSCOPE_METRICS_HTTP_H

#include <stddef.h>

/* metrics_http_check - is "ADDRESS:PORT" / "[IPV6]:PORT" usable? (-n) */
int metrics_http_check(const char *spec, char *err, size_t errsz);
/* metrics_http_bind - bind and listen, as root, before the drop */
int metrics_http_bind(const char *spec, char *err, size_t errsz);
/* metrics_http_start - serve the bound socket from libmicrohttpd's thread */
int metrics_http_start(char *err, size_t errsz);
/* metrics_http_set_stopping - /health answers 503 "stopping" from now on */
void metrics_http_set_stopping(void);
/* metrics_http_stop - stop serving, close the socket */
void metrics_http_stop(void);

#endif
