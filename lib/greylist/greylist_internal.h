/*
 * greylist_internal.h - what greylist.c (the allow-lists) borrows from
 * greylist_codec.c (the stored-text number reader); not
 * for other modules: greylist.h is the one public interface.
 */
#ifndef SMTPSCOPE_GREYLIST_INTERNAL_H
#define SMTPSCOPE_GREYLIST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greylist/greylist.h"

/* a reader of stored text (greylist_codec.c): the position, the end and
 * a sticky error */
struct greylist_rd {
	const char *p, *end;
	bool err;		/* sticky: callers check once */
};
/* greylist_rd_num - a number in [0, max], then one separator (or end
 * when sep is 0); sets rd->err otherwise */
int64_t greylist_rd_num(struct greylist_rd *rd, int64_t max, char sep);

#endif
