/*
 * msgfile.h - a message (RFC 5322 text) as header fields and a CRLF body.
 */
#ifndef SMTPSCOPE_MSGFILE_H
#define SMTPSCOPE_MSGFILE_H

#include <stddef.h>

struct msgfile_header {
	char *name;
	char *value;	/* without the white space after the colon */
	char *raw;	/* everything after the colon as in the file: leading
			 * white space and folding kept, line ends CRLF */
};

struct msgfile {
	struct msgfile_header *hdr;
	size_t nhdr;
	char *body;	/* CRLF line ends */
	size_t body_len;
};

/* msgfile_load - read and split a file (or "-" for standard input) */
int msgfile_load(const char *path, struct msgfile *m);
/* msgfile_parse - split text already in memory */
int msgfile_parse(const char *text, size_t len, struct msgfile *m);
/* msgfile_builtin - a 2 KB ordinary message */
void msgfile_builtin(struct msgfile *m);
void msgfile_free(struct msgfile *m);

#endif
