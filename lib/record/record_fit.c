/*
 * record_fit.c - cut a record down until it fits the record log's cap.
 *
 * A record is never dropped for its size: a client controls most of what
 * goes into it (control bytes are escaped as six bytes each, recipients,
 * DKIM signatures), so record_fit() cuts it in a fixed order, serialising
 * again after each step that changed something, and names each step in
 * the record's "truncated" list:
 *
 *	dns			the dns list: its first RECORD_FIT_DNS lookups
 *	authentication_results	the A-R value: null
 *	greylist		greylist.rcpt: its first RECORD_FIT_GL entries
 *	dkim			auth.dkim: its first RECORD_FIT_DKIM signatures
 *	rcpt_list		envelope.rcpt: its first RECORD_FIT_RCPT
 *	strings			every string: its first RECORD_FIT_STR bytes
 *	record			only the fields of the minimal record
 *
 * The counts (dns_total, dkim_total, greylist.total, rcpt_count) are kept,
 * so a reader sees how much a list lost. The minimal record (v, ts,
 * event, session, start, msg, client.ip, queue_id, disposition, messages,
 * aborted, dns_total, truncated, fault, pseudonym_key, pseudonymized) is
 * bounded by construction: a fixed set of keys, scalar values, strings of
 * at most RECORD_FIT_STR bytes (6 bytes each once escaped) and lists of at
 * most RECORD_FIT_NAMES of them; RECORD_FIT_MIN, checked at compile time
 * against that bound, is below the record log's cap.
 *
 * Works on an object the caller owns, in place; values are already
 * pseudonymized, so nothing raw can come back. Fails only for a cap below
 * RECORD_FIT_MIN (SCOPE_ETOOBIG) or out of memory (SCOPE_ENOMEM).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "record/record.h"
#include "record/recordlog.h"

#define RECORD_FIT_DNS		4	/* lookups kept by "dns" */
#define RECORD_FIT_GL		4	/* greylist entries kept */
#define RECORD_FIT_DKIM		4	/* signatures kept */
#define RECORD_FIT_RCPT		10	/* recipients kept */
#define RECORD_FIT_STR		64	/* bytes of a string kept */
#define RECORD_FIT_NAMES	32	/* strings kept in a minimal list */
#define RECORD_FIT_PATH_MAX	64

enum record_fit_kind { FIT_LIST, FIT_NULL, FIT_STRINGS, FIT_MINIMAL };

static const struct record_fit_step {
	const char *name;	/* in "truncated" */
	enum record_fit_kind kind;
	const char *path;	/* dotted, for FIT_LIST and FIT_NULL */
	size_t keep;		/* FIT_LIST: entries kept */
} record_fit_steps[] = {
	{ "dns", FIT_LIST, "dns", RECORD_FIT_DNS },
	{ "authentication_results", FIT_NULL, "authentication_results.value",
	    0 },
	{ "greylist", FIT_LIST, "greylist.rcpt", RECORD_FIT_GL },
	{ "dkim", FIT_LIST, "auth.dkim", RECORD_FIT_DKIM },
	{ "rcpt_list", FIT_LIST, "envelope.rcpt", RECORD_FIT_RCPT },
	{ "strings", FIT_STRINGS, NULL, 0 },
	{ "record", FIT_MINIMAL, NULL, 0 },
};

/* the minimal record's fields, in order; objects keep only sub */
enum record_fit_min { MIN_SCALAR, MIN_SUB, MIN_LIST };

static const struct record_fit_field {
	const char *key;
	enum record_fit_min how;
	const char *sub[2];	/* MIN_SUB: the scalars kept */
} record_fit_fields[] = {
	{ "v", MIN_SCALAR, { NULL } }, { "ts", MIN_SCALAR, { NULL } },
	{ "event", MIN_SCALAR, { NULL } }, { "session", MIN_SCALAR, { NULL } },
	{ "start", MIN_SCALAR, { NULL } }, { "msg", MIN_SCALAR, { NULL } },
	{ "client", MIN_SUB, { "ip", NULL } },
	{ "queue_id", MIN_SCALAR, { NULL } },
	{ "disposition", MIN_SUB, { "action", "stage" } },
	{ "messages", MIN_SCALAR, { NULL } },
	{ "aborted", MIN_SCALAR, { NULL } },
	{ "dns_total", MIN_SCALAR, { NULL } },
	{ "truncated", MIN_LIST, { NULL } },
	{ "fault", MIN_SCALAR, { NULL } },
	{ "pseudonym_key", MIN_SCALAR, { NULL } },
	{ "pseudonymized", MIN_LIST, { NULL } },
};

/*
 * The bound of the minimal record: every leaf (a scalar, a string of at
 * most RECORD_FIT_STR bytes escaped to at most 6 bytes each, or a list
 * entry) with its key, quotes, colon and comma, and the brackets.
 */
#define RECORD_FIT_NFIELDS \
	(sizeof(record_fit_fields) / sizeof(record_fit_fields[0]))
#define RECORD_FIT_LEAF		(6 * RECORD_FIT_STR + 2 + 32)
#define RECORD_FIT_LEAVES	(RECORD_FIT_NFIELDS * 2 + \
	2 * (RECORD_FIT_NAMES + 1))
#define RECORD_FIT_BOUND	(RECORD_FIT_LEAVES * RECORD_FIT_LEAF + \
	4 * RECORD_FIT_NFIELDS + 2)

_Static_assert(RECORD_FIT_BOUND <= RECORD_FIT_MIN,
    "the minimal record may not fit RECORD_FIT_MIN");
_Static_assert(RECORD_FIT_MIN < RECORDLOG_RECORD_MAX,
    "RECORD_FIT_MIN must fit the record log");

/* record_fit_size - bytes of the compact serialisation; 0 on failure */
static size_t
record_fit_size(const json_t *rec)
{
	return json_dumpb(rec, NULL, 0, RECORDLOG_JSON_FLAGS);
}

/* record_fit_get - the value at a dotted path, or NULL */
static json_t *
record_fit_get(json_t *rec, const char *path)
{
	char buf[RECORD_FIT_PATH_MAX], *part, *save = NULL;
	json_t *v = rec;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return NULL;
	for (part = strtok_r(buf, ".", &save); part != NULL && v != NULL;
	    part = strtok_r(NULL, ".", &save))
		v = json_object_get(v, part);
	return v;
}

/* record_fit_list - keep the first keep entries of a list; 1 if cut */
static int
record_fit_list(json_t *rec, const char *path, size_t keep)
{
	json_t *a = record_fit_get(rec, path);
	size_t n = json_array_size(a);

	if (!json_is_array(a) || n <= keep)
		return 0;
	while (n > keep)
		if (json_array_remove(a, --n) != 0)
			return SCOPE_ENOMEM;
	return 1;
}

/* record_fit_null - a string at path becomes null; 1 if it was one */
static int
record_fit_null(json_t *rec, const char *path)
{
	char parent[RECORD_FIT_PATH_MAX], *dot;
	json_t *o;

	if (snprintf(parent, sizeof(parent), "%s", path) >= (int)sizeof(parent) ||
	    (dot = strrchr(parent, '.')) == NULL)
		return 0;
	*dot = '\0';
	o = record_fit_get(rec, parent);
	if (!json_is_string(json_object_get(o, dot + 1)))
		return 0;
	return json_object_set_new(o, dot + 1, json_null()) == 0 ? 1 :
	    SCOPE_ENOMEM;
}

/* record_fit_cut - a string value cut to max bytes at a character
 * boundary; 1 if it was longer */
static int
record_fit_cut(json_t *v, size_t max)
{
	char buf[RECORD_FIT_STR + 1];
	size_t n = json_string_length(v);

	if (n <= max)
		return 0;
	if (max > RECORD_FIT_STR)
		max = RECORD_FIT_STR;
	while (max > 0 && ((unsigned char)json_string_value(v)[max] & 0xc0) ==
	    0x80)
		max--;		/* not inside a UTF-8 sequence */
	memcpy(buf, json_string_value(v), max);
	buf[max] = '\0';
	return json_string_setn(v, buf, max) == 0 ? 1 : SCOPE_ENOMEM;
}

/* record_fit_strings - every string in v cut to RECORD_FIT_STR bytes;
 * how many were cut, or SCOPE_ENOMEM */
static int
record_fit_strings(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	int rc, n = 0;

	if (json_is_string(v))
		return record_fit_cut(v, RECORD_FIT_STR);
	if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			if ((rc = record_fit_strings(x)) < 0)
				return rc;
			n += rc;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if ((rc = record_fit_strings(x)) < 0)
				return rc;
			n += rc;
		}
	}
	return n;
}

/* record_fit_scalar - a bounded copy of a scalar, null for anything
 * else; NULL when out of memory */
static json_t *
record_fit_scalar(json_t *v)
{
	json_t *c;

	if (json_is_string(v)) {
		c = json_stringn(json_string_value(v), json_string_length(v));
		if (c != NULL && record_fit_cut(c, RECORD_FIT_STR) < 0) {
			json_decref(c);
			return NULL;
		}
		return c;
	}
	if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
		return json_copy(v);
	return json_null();	/* not a scalar: nothing of it is kept */
}

/* record_fit_names - the first RECORD_FIT_NAMES strings of a list */
static json_t *
record_fit_names(json_t *a)
{
	json_t *out = json_array(), *x;
	size_t i;

	json_array_foreach(a, i, x) {
		if (i >= RECORD_FIT_NAMES || out == NULL)
			break;
		if (json_is_string(x) &&
		    json_array_append_new(out, record_fit_scalar(x)) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* record_fit_field - one field of the minimal record, bounded; NULL when
 * out of memory */
static json_t *
record_fit_field(const struct record_fit_field *f, json_t *v)
{
	json_t *o;
	unsigned i;

	if (f->how == MIN_SCALAR)
		return record_fit_scalar(v);
	if (f->how == MIN_LIST)
		return json_is_array(v) ? record_fit_names(v) : json_null();
	if (!json_is_object(v))
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < 2 && f->sub[i] != NULL; i++)
		if (json_object_get(v, f->sub[i]) != NULL &&
		    json_object_set_new(o, f->sub[i], record_fit_scalar(
		    json_object_get(v, f->sub[i]))) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/* record_fit_minimal - rec becomes its minimal record */
static int
record_fit_minimal(json_t *rec)
{
	json_t *min = json_object(), *v;
	size_t i;
	int rc;

	if (min == NULL)
		return SCOPE_ENOMEM;
	for (i = 0; i < RECORD_FIT_NFIELDS; i++) {
		v = json_object_get(rec, record_fit_fields[i].key);
		if (v == NULL)
			continue;
		if (json_object_set_new(min, record_fit_fields[i].key,
		    record_fit_field(&record_fit_fields[i], v)) != 0) {
			json_decref(min);
			return SCOPE_ENOMEM;
		}
	}
	rc = json_object_clear(rec) == 0 && json_object_update(rec, min) == 0 ?
	    1 : SCOPE_ENOMEM;
	json_decref(min);
	return rc;
}

/* record_fit_apply - one step; 1 when it changed the record */
static int
record_fit_apply(json_t *rec, const struct record_fit_step *st)
{
	int rc;

	switch (st->kind) {
	case FIT_LIST:
		return record_fit_list(rec, st->path, st->keep);
	case FIT_NULL:
		return record_fit_null(rec, st->path);
	case FIT_STRINGS:
		rc = record_fit_strings(rec);
		return rc > 0 ? 1 : rc;
	case FIT_MINIMAL:
		return record_fit_minimal(rec);
	}
	return 0;
}

/* record_fit_name - add a step's name to "truncated" (once) and cuts */
static int
record_fit_name(json_t *rec, const char *name, char *cuts, size_t cutsz)
{
	json_t *a = json_object_get(rec, "truncated"), *x;
	size_t i, used = strlen(cuts);

	if (cutsz > used)
		snprintf(cuts + used, cutsz - used, "%s%s", used > 0 ? "," : "",
		    name);
	if (a == NULL) {
		if ((a = json_array()) == NULL ||
		    json_object_set_new(rec, "truncated", a) != 0)
			return SCOPE_ENOMEM;
	}
	json_array_foreach(a, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), name) == 0)
			return SCOPE_OK;
	return json_array_append_new(a, json_string(name)) == 0 ? SCOPE_OK :
	    SCOPE_ENOMEM;
}

/* record_fit - cut rec in the documented order until it fits cap */
int
record_fit(json_t *rec, size_t cap, char *cuts, size_t cutsz)
{
	size_t i, size;
	int rc;

	if (cutsz > 0)
		cuts[0] = '\0';
	if (cap < RECORD_FIT_MIN)
		return SCOPE_ETOOBIG;
	size = record_fit_size(rec);
	for (i = 0; size > cap; i++) {
		if (i == sizeof(record_fit_steps) / sizeof(record_fit_steps[0]))
			return SCOPE_ETOOBIG;	/* cannot be: RECORD_FIT_BOUND */
		rc = record_fit_apply(rec, &record_fit_steps[i]);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if ((rc = record_fit_name(rec, record_fit_steps[i].name, cuts,
		    cutsz)) != SCOPE_OK)
			return rc;
		size = record_fit_size(rec);
	}
	return size > 0 ? SCOPE_OK : SCOPE_ENOMEM;
}
