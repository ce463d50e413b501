/*
 * milter_reuse.h - the negotiated protocol flags of a milter connection
 * kept between two SMTP sessions on it (SMFIC_QUIT_NC), outside
 * libmilter's private pointer, which must be NULL when a connection ends
 * (else libmilter logs "private data not NULL" for every connection).
 */
#ifndef SMTPSCOPE_MILTER_REUSE_H
#define SMTPSCOPE_MILTER_REUSE_H

#include <stdbool.h>

/* milter_reuse_negotiated - a connection at ctx negotiated pflags: any
 * flags kept for an earlier connection at the same address go */
void milter_reuse_negotiated(const void *ctx, unsigned long pflags);

/* milter_reuse_put - a session on ctx ended; keep its flags in case
 * another session follows on the same connection */
void milter_reuse_put(const void *ctx, unsigned long pflags);

/* milter_reuse_take - the flags kept for ctx (and forget them); when
 * none were kept, the last flags any connection negotiated, and false */
bool milter_reuse_take(const void *ctx, unsigned long *pflags);

#endif
