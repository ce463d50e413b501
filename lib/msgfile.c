/*
 * msgfile.c - a message file split into header fields (folded lines
 * joined) and a body with CRLF line ends, as an MTA hands them to a
 * milter. Used by smtpscope-eval, the benchmark's load generator and
 * the DKIM conformance suite (which needs each value exactly as in the
 * file: msgfile_header.raw). Owns every string it returns (msgfile_free).
 * Files over 16 MiB are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgfile.h"

#define MSGFILE_MAX	(16 * 1024 * 1024)

/* msgfile_read_stream - a whole stream in memory, NUL-terminated */
static char *
msgfile_read_stream(FILE *fp, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	char *buf = malloc(cap + 1), *grown;

	while (buf != NULL && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n < cap)
			continue;
		if (cap >= MSGFILE_MAX) {
			free(buf);
			return NULL;	/* too large */
		}
		grown = realloc(buf, cap * 2 + 1);
		if (grown == NULL)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	if (buf == NULL || ferror(fp)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* msgfile_slurp - a file ("-": standard input) in memory */
static char *
msgfile_slurp(const char *path, size_t *len)
{
	FILE *fp;
	char *buf;

	if (strcmp(path, "-") == 0)
		return msgfile_read_stream(stdin, len);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	buf = msgfile_read_stream(fp, len);
	fclose(fp);
	return buf;
}

/* msgfile_raw - line[0..len) with every bare LF made CRLF (caller frees) */
static char *
msgfile_raw(const char *line, size_t len)
{
	char *out = malloc(len * 2 + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (line[i] == '\n' && (i == 0 || line[i - 1] != '\r'))
			*o++ = '\r';
		*o++ = line[i];
	}
	*o = '\0';
	return out;
}

/* msgfile_add_header - append "Name: value" (value may be folded) */
static int
msgfile_add_header(struct msgfile *m, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	struct msgfile_header *grown;
	size_t vstart;

	if (colon == NULL)
		return 0;	/* not a header field: ignore */
	grown = realloc(m->hdr, (m->nhdr + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	m->hdr = grown;
	vstart = (size_t)(colon - line) + 1;
	while (vstart < len && (line[vstart] == ' ' || line[vstart] == '\t'))
		vstart++;
	grown[m->nhdr].name = strndup(line, (size_t)(colon - line));
	grown[m->nhdr].value = strndup(line + vstart, len - vstart);
	grown[m->nhdr].raw = msgfile_raw(colon + 1,
	    len - (size_t)(colon - line) - 1);
	if (grown[m->nhdr].name == NULL || grown[m->nhdr].value == NULL ||
	    grown[m->nhdr].raw == NULL) {
		free(grown[m->nhdr].name);
		free(grown[m->nhdr].value);
		free(grown[m->nhdr].raw);
		return -1;
	}
	m->nhdr++;
	return 0;
}

/* msgfile_crlf - a copy of text with every line ending in CRLF */
static char *
msgfile_crlf(const char *p, size_t len, size_t *outlen)
{
	char *out = malloc(len * 2 + 3), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			*o++ = '\r';
		*o++ = p[i];
	}
	if (o == out || o[-1] != '\n') {
		*o++ = '\r';
		*o++ = '\n';
	}
	*outlen = (size_t)(o - out);
	return out;
}

/* msgfile_header_end - end of the current (possibly folded) header line */
static const char *
msgfile_header_end(const char *p, const char *end)
{
	const char *nl;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return end;
		if (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
			return nl;
		p = nl + 1;
	}
}

/* msgfile_parse - split text into headers and body */
int
msgfile_parse(const char *text, size_t len, struct msgfile *m)
{
	const char *p = text, *end = text + len, *eol;
	size_t l;

	memset(m, 0, sizeof(*m));
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		eol = msgfile_header_end(p, end);
		l = (size_t)(eol - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (msgfile_add_header(m, p, l) != 0)
			return -1;
		p = eol < end ? eol + 1 : end;
	}
	if (p < end)
		p += *p == '\r' ? 2 : 1;
	m->body = msgfile_crlf(p, (size_t)(end - p), &m->body_len);
	return m->body != NULL ? 0 : -1;
}

/* msgfile_load - one corpus file */
int
msgfile_load(const char *path, struct msgfile *m)
{
	size_t len = 0;
	char *text = msgfile_slurp(path, &len);
	int rc;

	if (text == NULL)
		return -1;
	rc = msgfile_parse(text, len, m);
	free(text);
	return rc;
}

/* msgfile_builtin - a 2 KB message when no corpus is given */
void
msgfile_builtin(struct msgfile *m)
{
	static const char head[] =
	    "Received: from mail.example.org (mail.example.org [192.0.2.25])\n"
	    "\tby mx.smtpscope.test (Postfix) with ESMTPS id 4ABC\n"
	    "\tfor <bob@smtpscope.test>; Sat, 28 Nov 2026 10:00:00 +0000\n"
	    "From: Alice <alice@example.org>\nTo: Bob <bob@smtpscope.test>\n"
	    "Subject: quarterly figures\nDate: Sat, 28 Nov 2026 10:00:00 +0000\n"
	    "Message-ID: <bench.1@example.org>\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n\n";
	static const char line[] = "The figures for the quarter are attached "
	    "below, as discussed.\n";
	char text[4096];
	size_t n = strlen(head);

	memcpy(text, head, n);
	while (n < 2000) {
		memcpy(text + n, line, sizeof(line) - 1);
		n += sizeof(line) - 1;
	}
	if (msgfile_parse(text, n, m) != 0)
		abort();
}

/* msgfile_free - release a parsed message */
void
msgfile_free(struct msgfile *m)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++) {
		free(m->hdr[i].name);
		free(m->hdr[i].value);
		free(m->hdr[i].raw);
	}
	free(m->hdr);
	free(m->body);
	memset(m, 0, sizeof(*m));
}
