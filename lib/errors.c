/*
 * errors.c - names for the core's negative error codes.
 */
#include "errors.h"

/* errors_str - short text for an error code */
const char *
errors_str(int code)
{
	switch (code) {
	case SCOPE_OK:
		return "success";
	case SCOPE_ENOMEM:
		return "out of memory";
	case SCOPE_EIO:
		return "input/output error";
	case SCOPE_EINVAL:
		return "malformed input";
	case SCOPE_ERANGE:
		return "value out of range";
	case SCOPE_ETOOBIG:
		return "too large";
	case SCOPE_ESTATE:
		return "event out of order";
	case SCOPE_ENOENT:
		return "not found";
	case SCOPE_ENOSPC:
		return "store full";
	case SCOPE_EREFUSED:
		return "the MTA did not take the header change";
	default:
		return "unknown error";
	}
}
