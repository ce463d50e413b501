/*
 * errors.h - error codes of the smtpscope core.
 *
 * Functions in lib/ return 0 on success or one of these negative codes;
 * they never exit and never log. errors_str() names a code for messages.
 */
#ifndef SMTPSCOPE_ERRORS_H
#define SMTPSCOPE_ERRORS_H

enum {
	SCOPE_OK = 0,
	SCOPE_ENOMEM = -1,	/* allocation failed */
	SCOPE_EIO = -2,		/* read or write failed (errno kept by caller) */
	SCOPE_EINVAL = -3,	/* malformed input */
	SCOPE_ERANGE = -4,	/* value out of range */
	SCOPE_ETOOBIG = -5,	/* input or output over its cap */
	SCOPE_ESTATE = -6,	/* event out of order */
	SCOPE_ENOENT = -7,	/* no such item */
	SCOPE_ENOSPC = -8,	/* a store is full (at its configured size) */
	SCOPE_EREFUSED = -9	/* the MTA did not take a header change */
};

const char *errors_str(int code);

#endif
