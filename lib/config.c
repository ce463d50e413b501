/*
 * config.c - parse smtpscope.conf against the typed key table.
 *
 * The parser reads at most CONFIG_LINE_MAX bytes a line and rejects NUL
 * bytes, control characters, unknown keys, duplicate keys and values out
 * of range, each with "FILE:LINE: Key: reason". Values are checked for
 * form (a path that exists must be a regular file; a GreylistStore must
 * parse, glstore_spec_check); whether a user exists is the daemon's
 * check (privs.c). The file itself is read with text_file_open: a
 * regular file of at most CONFIG_FILE_MAX bytes.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config.h"
#include "errors.h"
#include "greylist/glstore.h"
#include "sockspec.h"
#include "text.h"

static int config_error(char *err, size_t errsz, const char *file,
    unsigned line, const char *key, int code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* config_error - format "FILE:LINE: Key: text" into err */
static int
config_error(char *err, size_t errsz, const char *file, unsigned line,
    const char *key, int code, const char *fmt, ...)
{
	char text[CONFIG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (key != NULL)
		snprintf(err, errsz, "%s:%u: %s: %s", file, line, key, text);
	else
		snprintf(err, errsz, "%s:%u: %s", file, line, text);
	return code;
}

/* config_type_name - the type's name as the man page writes it */
const char *
config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING:
		return "string";
	case CONFIG_PATH:
		return "path";
	case CONFIG_BOOL:
		return "boolean";
	case CONFIG_INT:
		return "integer";
	case CONFIG_OCTAL:
		return "octal";
	case CONFIG_ENUM:
		return "enum";
	case CONFIG_SOCKET:
		return "socket";
	case CONFIG_USER:
		return "user";
	case CONFIG_STORE:
		return "store";
	}
	return "?";
}

/* config_lookup - find a key, ignoring case */
const struct config_key *
config_lookup(const char *name)
{
	int i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (text_ieq(config_table[i].name, name))
			return &config_table[i];
	return NULL;
}

/* config_enum_choice - copy choice number 'index' of an enum key */
int
config_enum_choice(const struct config_key *key, int index, char *out,
    size_t outsz)
{
	const char *p = key->choices, *bar;
	size_t len;

	for (; index > 0 && p != NULL; index--) {
		p = strchr(p, '|');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return SCOPE_ENOENT;
	bar = strchr(p, '|');
	len = bar != NULL ? (size_t)(bar - p) : strlen(p);
	if (len >= outsz)
		return SCOPE_ETOOBIG;
	memcpy(out, p, len);
	out[len] = '\0';
	return SCOPE_OK;
}

/* config_parse_enum - index of value among the key's choices */
static int
config_parse_enum(const struct config_key *key, const char *value, int *out)
{
	char choice[64];
	int i;

	for (i = 0; config_enum_choice(key, i, choice, sizeof(choice)) == 0; i++) {
		if (text_ieq(choice, value)) {
			*out = i;
			return SCOPE_OK;
		}
	}
	return SCOPE_EINVAL;
}

/* config_parse_bool - the usual spellings of true and false */
static int
config_parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (text_ieq(value, yes[i])) {
			*out = true;
			return SCOPE_OK;
		}
		if (text_ieq(value, no[i])) {
			*out = false;
			return SCOPE_OK;
		}
	}
	return SCOPE_EINVAL;
}

/* config_name_ok - a user or group name as useradd(8) accepts them */
static bool
config_name_ok(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > 32 || p[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && strchr("._-", p[i]) == NULL)
			return false;
	return true;
}

/* config_check_user - user[:group] */
static const char *
config_check_user(const char *value)
{
	const char *colon = strchr(value, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - value) : strlen(value);

	if (!config_name_ok(value, ulen))
		return "expected user or user:group";
	if (colon != NULL && !config_name_ok(colon + 1, strlen(colon + 1)))
		return "bad group name";
	return NULL;
}

/* config_check_path - absolute, not too long, and, if something is
 * there, a regular file (a FIFO or a device would block or never end:
 * stat(2) never blocks; the loaders check again on the open file) */
static const char *
config_check_path(const char *value)
{
	struct stat st;

	if (value[0] != '/')
		return "path must be absolute";
	if (strlen(value) > 1023)
		return "path too long";
	if (stat(value, &st) == 0 && !S_ISREG(st.st_mode))
		return "not a regular file";
	return NULL;
}

/* config_check_string - form checks of string-typed values; buf holds a
 * reason made up here */
static const char *
config_check_string(const struct config_key *key, const char *value,
    char *buf, size_t bufsz)
{
	struct sockspec spec;
	const char *why = NULL;

	switch (key->type) {
	case CONFIG_PATH:
		return config_check_path(value);
	case CONFIG_STORE:
		if (strlen(value) > 1023)
			return "value too long";
		return glstore_spec_check(value, buf, bufsz) == SCOPE_OK ?
		    NULL : buf;
	case CONFIG_SOCKET:
		if (sockspec_parse(value, &spec, &why) != SCOPE_OK)
			return why;
		return NULL;
	case CONFIG_USER:
		return config_check_user(value);
	default:
		if (strlen(value) > 255)
			return "value too long";
		return key->offset == offsetof(struct config, nameservers) &&
		    strspn(value, "0123456789abcdefABCDEF.:[], ") != strlen(value) ?
		    "expected addresses: ip, ip:port or [ipv6]:port" : NULL;
	}
}

/* config_store_string - replace an owned string field */
static int
config_store_string(char **field, const char *value)
{
	char *copy = value != NULL ? strdup(value) : NULL;

	if (value != NULL && copy == NULL)
		return SCOPE_ENOMEM;
	free(*field);
	*field = copy;
	return SCOPE_OK;
}

/* config_apply - check one value and store it in cfg */
static int
config_apply(struct config *cfg, const struct config_key *key,
    const char *value, const char **why, char *buf, size_t bufsz)
{
	void *field = (char *)cfg + key->offset;
	long n;
	int rc;

	*why = NULL;
	switch (key->type) {
	case CONFIG_BOOL:
		if (config_parse_bool(value, field) != SCOPE_OK)
			*why = "expected yes or no";
		break;
	case CONFIG_INT:
	case CONFIG_OCTAL:
		rc = text_parse_long(value, key->type == CONFIG_OCTAL ? 8 : 10,
		    key->min, key->max, &n);
		if (rc == SCOPE_OK)
			*(long *)field = n;
		else
			*why = rc == SCOPE_ERANGE ? "value out of range" :
			    key->type == CONFIG_OCTAL ? "expected an octal mode" :
			    "expected an integer";
		break;
	case CONFIG_ENUM:
		if (config_parse_enum(key, value, field) != SCOPE_OK)
			*why = "not one of the allowed values";
		break;
	default:
		*why = config_check_string(key, value, buf, bufsz);
		if (*why == NULL)
			return config_store_string(field, value);
		break;
	}
	return *why == NULL ? SCOPE_OK : SCOPE_EINVAL;
}

/* config_same - has key the same value in a and b? */
bool
config_same(const struct config *a, const struct config *b,
    enum config_key_id id)
{
	const struct config_key *key = &config_table[id];
	const void *fa = (const char *)a + key->offset;
	const void *fb = (const char *)b + key->offset;
	const char *sa, *sb;

	switch (key->type) {
	case CONFIG_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONFIG_INT:
	case CONFIG_OCTAL:
		return *(const long *)fa == *(const long *)fb;
	case CONFIG_ENUM:
		return *(const int *)fa == *(const int *)fb;
	default:
		sa = *(char *const *)fa;
		sb = *(char *const *)fb;
		return sa == sb || (sa != NULL && sb != NULL &&
		    strcmp(sa, sb) == 0);
	}
}

/* config_set - set one key; used by the file parser and by -p */
int
config_set(struct config *cfg, const char *key, const char *value,
    const char *file, unsigned line, char *err, size_t errsz)
{
	const struct config_key *k = config_lookup(key);
	char buf[CONFIG_ERR_MAX / 2];
	const char *why;
	int idx, rc;

	if (k == NULL)
		return config_error(err, errsz, file, line, NULL, SCOPE_ENOENT,
		    "unknown key '%s'", key);
	idx = (int)(k - config_table);
	if (line != 0 && cfg->line[idx] != 0)
		return config_error(err, errsz, file, line, k->name,
		    SCOPE_EINVAL, "set again (first set at line %u)",
		    cfg->line[idx]);
	rc = config_apply(cfg, k, value, &why, buf, sizeof(buf));
	if (rc == SCOPE_ENOMEM)
		return config_error(err, errsz, file, line, k->name, rc,
		    "out of memory");
	if (rc != SCOPE_OK) {
		if (k->type == CONFIG_ENUM)
			return config_error(err, errsz, file, line, k->name, rc,
			    "'%s' %s (%s)", value, why, k->choices);
		return config_error(err, errsz, file, line, k->name, rc,
		    "'%s': %s", value, why);
	}
	cfg->line[idx] = line;
	return SCOPE_OK;
}

/* config_init - every key at its default */
int
config_init(struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	int i, rc;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_table[i].defval == NULL)
			continue;
		rc = config_set(cfg, config_table[i].name,
		    config_table[i].defval, "(defaults)", 0, err, sizeof(err));
		if (rc != SCOPE_OK) {
			config_free(cfg);
			return rc;
		}
	}
	return SCOPE_OK;
}

/* config_free - release the strings a config owns */
void
config_free(struct config *cfg)
{
	int i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_table[i];

		if (k->type != CONFIG_BOOL && k->type != CONFIG_INT &&
		    k->type != CONFIG_OCTAL && k->type != CONFIG_ENUM) {
			char **field = (char **)((char *)cfg + k->offset);

			free(*field);
			*field = NULL;
		}
	}
	free(cfg->file);
	cfg->file = NULL;
}

/* config_split - cut comment and split "Key value"; 0 blank, 1 pair */
static int
config_split(char *line, char **key, char **value, const char **why)
{
	char *p, *end;

	for (p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			*why = "control character in line";
			return SCOPE_EINVAL;
		}
	}
	p = line + strspn(line, " \t");
	if (*p == '\0')
		return 0;
	*key = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	*value = p;
	return 1;
}

/* config_sink - where the loader's errors go: the first one into err
 * (the load stops there), or every one into errs (it goes on) */
struct config_sink {
	char *err;
	size_t errsz;
	struct config_errs *errs;
	int rc;			/* the first error's code */
};

/* config_report - hand the message in buf to the sink; true: stop */
static bool
config_report(struct config_sink *sink, int key, int code, const char *buf)
{
	if (sink->rc == SCOPE_OK)
		sink->rc = code;
	if (sink->errs == NULL) {
		snprintf(sink->err, sink->errsz, "%s", buf);
		return true;
	}
	config_errs_add(sink->errs, key, buf);
	return code == SCOPE_EIO || code == SCOPE_ENOMEM;
}

/* config_skip_line - after a NUL byte or a line too long: the rest of it */
static void
config_skip_line(FILE *fp)
{
	int c;

	while ((c = getc(fp)) != EOF && c != '\n')
		continue;
}

/* config_line - one line read into buf: split it and set the key; 0, or
 * the error's code with the message in msg and the key id in *key_id */
static int
config_line(struct config *cfg, char *buf, const char *path, unsigned line,
    char *msg, size_t msgsz, int *key_id)
{
	const struct config_key *k;
	const char *why = NULL;
	char *key, *value;
	int rc;

	rc = config_split(buf, &key, &value, &why);
	if (rc <= 0)
		return rc < 0 ? config_error(msg, msgsz, path, line, NULL, rc,
		    "%s", why) : SCOPE_OK;
	k = config_lookup(key);
	*key_id = k != NULL ? (int)(k - config_table) : -1;
	if (*value == '\0')
		return config_error(msg, msgsz, path, line,
		    k != NULL ? k->name : key, SCOPE_EINVAL, "missing value");
	return config_set(cfg, key, value, path, line, msg, msgsz);
}

/* config_load_sink - every line of an open file, errors to the sink */
static int
config_load_sink(struct config *cfg, FILE *fp, const char *path,
    struct config_sink *sink)
{
	char buf[CONFIG_LINE_MAX + 2], msg[CONFIG_ERR_MAX];
	const char *why = NULL;
	unsigned line = 0;
	int rc, key;

	for (;;) {
		line++;
		key = -1;
		rc = text_read_line(fp, buf, sizeof(buf), &why);
		if (rc == 0)
			return sink->rc;
		if (rc < 0) {
			config_error(msg, sizeof(msg), path, line, NULL, rc,
			    "%s", why);
			if (config_report(sink, -1, rc, msg))
				return sink->rc;
			config_skip_line(fp);
			continue;
		}
		rc = config_line(cfg, buf, path, line, msg, sizeof(msg), &key);
		if (rc != SCOPE_OK && config_report(sink, key, rc, msg))
			return sink->rc;
	}
}

/* config_load_stream - every line of an open file, up to the first error */
int
config_load_stream(struct config *cfg, FILE *fp, const char *path,
    char *err, size_t errsz)
{
	struct config_sink sink = { err, errsz, NULL, SCOPE_OK };

	return config_load_sink(cfg, fp, path, &sink);
}

/* config_open - open the file for reading and remember its name */
static int
config_open(struct config *cfg, const char *path, FILE **fp, char *err,
    size_t errsz)
{
	const char *why;
	int rc;

	rc = text_file_open(path, CONFIG_FILE_MAX, fp, &why);
	if (rc == SCOPE_ETOOBIG)
		return config_error(err, errsz, path, 0, NULL, rc,
		    "cannot open: over %d bytes", CONFIG_FILE_MAX);
	if (rc != SCOPE_OK)
		return config_error(err, errsz, path, 0, NULL, rc,
		    "cannot open: %s", why);
	free(cfg->file);
	cfg->file = strdup(path);
	if (cfg->file == NULL) {
		fclose(*fp);
		return config_error(err, errsz, path, 0, NULL, SCOPE_ENOMEM,
		    "out of memory");
	}
	return SCOPE_OK;
}

/* config_load - read a configuration file over cfg's current values */
int
config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	FILE *fp;
	int rc;

	if ((rc = config_open(cfg, path, &fp, err, errsz)) != SCOPE_OK)
		return rc;
	rc = config_load_stream(cfg, fp, path, err, errsz);
	fclose(fp);
	return rc;
}

/* config_load_all - the same, going on past errors: each one into errs */
int
config_load_all(struct config *cfg, const char *path, struct config_errs *errs)
{
	struct config_sink sink = { NULL, 0, errs, SCOPE_OK };
	char err[CONFIG_ERR_MAX];
	FILE *fp;
	int rc;

	if ((rc = config_open(cfg, path, &fp, err, sizeof(err))) != SCOPE_OK) {
		config_errs_add(errs, -1, err);
		return rc;
	}
	rc = config_load_sink(cfg, fp, path, &sink);
	fclose(fp);
	return rc;
}

/* config_errs_add - one more error; kept if there is room, else counted */
void
config_errs_add(struct config_errs *e, int key, const char *text)
{
	if (key >= 0 && key < CONFIG_NKEYS)
		e->bad[key] = true;
	e->count++;
	if (e->kept < CONFIG_ERRS_KEEP &&
	    (e->text[e->kept] = strdup(text)) != NULL)
		e->kept++;
}

/* config_errs_free - the kept texts */
void
config_errs_free(struct config_errs *e)
{
	unsigned i;

	for (i = 0; i < e->kept; i++)
		free(e->text[i]);
	memset(e, 0, sizeof(*e));
}

/* config_format - key id's value as the file writes it; 0, or
 * SCOPE_ENOENT when it is not set (no default, not in the file) */
int
config_format(const struct config *cfg, enum config_key_id id, char *out,
    size_t outsz)
{
	const struct config_key *key = &config_table[id];
	const void *field = (const char *)cfg + key->offset;
	const char *s;

	switch (key->type) {
	case CONFIG_BOOL:
		snprintf(out, outsz, "%s", *(const bool *)field ? "yes" : "no");
		return SCOPE_OK;
	case CONFIG_INT:
		snprintf(out, outsz, "%ld", *(const long *)field);
		return SCOPE_OK;
	case CONFIG_OCTAL:
		snprintf(out, outsz, "%04lo", *(const long *)field);
		return SCOPE_OK;
	case CONFIG_ENUM:
		return config_enum_choice(key, *(const int *)field, out, outsz);
	default:
		s = *(char *const *)field;
		if (s == NULL)
			return SCOPE_ENOENT;
		if (strlen(s) >= outsz)
			return SCOPE_ETOOBIG;
		snprintf(out, outsz, "%s", s);
		return SCOPE_OK;
	}
}

/* config_print - every key in table order, "Key value", a file that
 * loads into the same values; a key without value is a comment line */
int
config_print(const struct config *cfg, FILE *fp)
{
	char value[CONFIG_LINE_MAX];
	int i, rc;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		rc = config_format(cfg, (enum config_key_id)i, value,
		    sizeof(value));
		if (rc == SCOPE_ENOENT)
			fprintf(fp, "# %s (not set)\n", config_table[i].name);
		else if (rc == SCOPE_OK)
			fprintf(fp, "%s %s\n", config_table[i].name, value);
		else
			return rc;
	}
	return fflush(fp) == 0 && !ferror(fp) ? SCOPE_OK : SCOPE_EIO;
}
