/*
 * record_privacy.c - pseudonymization of a record's fields (pseudo.h, the
 * env's pseudo; the PRIVACY section of smtpscope-records(5) lists the
 * fields of each group): a field of a group that is not kept goes
 * through pseudo_ip/name/addr/msgid; every other string that can carry
 * those values (DNS query names, SPF identities and texts, reasons) and
 * every kept group's field is scrubbed: where a raw value of a
 * pseudonymized group appears in it as a whole word (the client address
 * also reversed, dashed or in nibbles), it is replaced by its pseudonym
 * in the same shape, and with drop the whole field becomes null.
 *
 * Owns the per-record state (record_begin allocates, record_end frees).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record/record_internal.h"

/* record_alnum - an ASCII letter or digit: no word boundary next to it */
static bool
record_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* record_scrub - v with every raw value of a pseudonymized group that
 * appears as a whole word replaced by its pseudonym; null when one of
 * them is dropped or the result is too long */
void
record_scrub(struct record_b *b, const char *v, bool empty_null)
{
	struct record_pctx *pc = b->pc;
	const struct record_needle *n;
	const char *rep;
	size_t used = 0, i = 0, rl;
	unsigned k;

	if (v == NULL)
		v = "";
	if (b->p == NULL || pc->nn == 0) {
		record_text(b, v, empty_null);
		return;
	}
	while (v[i] != '\0') {
		n = NULL;
		for (k = 0; (i == 0 || !record_alnum((unsigned char)v[i - 1])) &&
		    k < pc->nn; k++)
			if (strncasecmp(v + i, pc->n[k].raw, pc->n[k].len) == 0 &&
			    !record_alnum((unsigned char)v[i + pc->n[k].len])) {
				n = &pc->n[k];
				break;
			}
		if (n != NULL && n->rep == NULL) {
			record_w_null(&b->w);
			return;
		}
		rep = n != NULL ? n->rep : v + i;
		rl = n != NULL ? strlen(n->rep) : 1;
		i += n != NULL ? n->len : 1;
		if (used + rl >= sizeof(pc->buf)) {
			record_w_null(&b->w);
			return;
		}
		memcpy(pc->buf + used, rep, rl);
		used += rl;
	}
	pc->buf[used] = '\0';
	record_text(b, pc->buf, empty_null);
}

/* record_pv - a value of a group: its pseudonym, or (kept) scrubbed;
 * null when dropped, or when empty and empty_null */
void
record_pv(struct record_b *b, enum record_grp g, const char *v,
    bool empty_null)
{
	const struct pseudo_modes *m;
	enum pseudo_mode mode;
	char *out;
	bool kept;

	if (b->p == NULL) {
		record_text(b, v, empty_null);
		return;
	}
	m = pseudo_modes(b->p);
	mode = g == RECORD_IP ? m->client_addr : g == RECORD_NAME ? m->names :
	    g == RECORD_ADDR ? m->addresses : m->msgid;
	if (mode == PSEUDO_KEEP) {
		record_scrub(b, v, empty_null);
		return;
	}
	out = b->pc->out;
	if (v == NULL)
		v = "";
	kept = g == RECORD_IP ? pseudo_ip(b->p, v, out, PSEUDO_OUT_MAX) :
	    g == RECORD_NAME ? pseudo_name(b->p, v, out, PSEUDO_OUT_MAX) :
	    g == RECORD_ADDR ? pseudo_addr(b->p, v, out, PSEUDO_OUT_MAX) :
	    pseudo_msgid(b->p, v, out, PSEUDO_OUT_MAX);
	if (kept)
		record_text(b, out, empty_null);
	else
		record_w_null(&b->w);
}

/* record_needle_add - look for raw[0..len) and write rep (NULL: drop);
 * values shorter than 2 bytes are not looked for inside others */
static void
record_needle_add(struct record_pctx *pc, const char *raw, size_t len,
    const char *rep)
{
	unsigned k;

	if (len < 2 || pc->nn >= RECORD_NEEDLES)
		return;
	for (k = pc->nn; k > 0 && pc->n[k - 1].len < len; k--)
		pc->n[k] = pc->n[k - 1];
	pc->n[k].raw = raw;
	pc->n[k].len = len;
	pc->n[k].rep = rep;
	pc->nn++;
}

/* record_ip_forms - the forms an address takes inside names: as text,
 * reversed (in-addr.arpa), dashed both ways (IPv4); text, nibbles
 * reversed (ip6.arpa) and forward (IPv6); *n forms, none if not an
 * address */
static int
record_ip_forms(const char *ip, char forms[][RECORD_FORM_MAX], unsigned *n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	unsigned i;

	*n = 0;
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(forms[0], RECORD_FORM_MAX, "%u.%u.%u.%u", a[0], a[1],
		    a[2], a[3]);
		snprintf(forms[1], RECORD_FORM_MAX, "%u.%u.%u.%u", a[3], a[2],
		    a[1], a[0]);
		snprintf(forms[2], RECORD_FORM_MAX, "%u-%u-%u-%u", a[0], a[1],
		    a[2], a[3]);
		snprintf(forms[3], RECORD_FORM_MAX, "%u-%u-%u-%u", a[3], a[2],
		    a[1], a[0]);
		*n = 4;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 ||
	    inet_ntop(AF_INET6, a, forms[0], RECORD_FORM_MAX) == NULL)
		return 0;
	for (i = 0; i < 32; i++) {
		unsigned nib = i % 2 == 0 ? a[i / 2] >> 4 : a[i / 2] & 15;

		forms[2][2 * i] = hex[nib];
		forms[2][2 * i + 1] = '.';
		forms[1][2 * (31 - i)] = hex[nib];
		forms[1][2 * (31 - i) + 1] = '.';
	}
	forms[1][63] = forms[2][63] = '\0';
	*n = 3;
	return AF_INET6;
}

/* record_pctx_ip - the client address and its forms */
static void
record_pctx_ip(struct record_b *b, const char *ip)
{
	struct record_pctx *pc = b->pc;
	char pforms[4][RECORD_FORM_MAX], *pv = pc->reps[pc->nn];
	unsigned n, pn, i;
	int af;

	af = record_ip_forms(ip, pc->forms, &n);
	if (af == 0) {
		snprintf(pc->forms[0], RECORD_FORM_MAX, "%s", ip);
		n = 1;
	}
	if (!pseudo_ip(b->p, ip, pv, PSEUDO_OUT_MAX)) {
		for (i = 0; i < n; i++)
			record_needle_add(pc, pc->forms[i], strlen(pc->forms[i]),
			    NULL);
		return;
	}
	/* an address (prefix, truncate) in the same forms; a hash as is */
	if (record_ip_forms(pv, pforms, &pn) != af || pn != n) {
		for (i = 0; i < n; i++)
			record_needle_add(pc, pc->forms[i], strlen(pc->forms[i]),
			    pv);
		return;
	}
	for (i = 0; i < n && pc->nn < RECORD_NEEDLES; i++) {
		snprintf(pc->reps[pc->nn], PSEUDO_OUT_MAX, "%s", pforms[i]);
		record_needle_add(pc, pc->forms[i], strlen(pc->forms[i]),
		    pc->reps[pc->nn]);
	}
}

/* record_pctx_one - a raw value and its pseudonym in group g */
static void
record_pctx_one(struct record_b *b, enum record_grp g, const char *raw,
    size_t len)
{
	struct record_pctx *pc = b->pc;
	char *rep, *at;
	bool kept;

	if (len < 2 || pc->nn >= RECORD_NEEDLES)
		return;
	rep = pc->reps[pc->nn];
	if (len >= PSEUDO_OUT_MAX) {
		record_needle_add(pc, raw, len, NULL);
		return;
	}
	memcpy(pc->out, raw, len);
	pc->out[len] = '\0';
	kept = g == RECORD_NAME ? pseudo_name(b->p, pc->out, rep,
	    PSEUDO_OUT_MAX) : g == RECORD_ADDR ? pseudo_addr(b->p, pc->out, rep,
	    PSEUDO_OUT_MAX) : pseudo_msgid(b->p, pc->out, rep, PSEUDO_OUT_MAX);
	record_needle_add(pc, raw, len, kept ? rep : NULL);
	/* an address's local part alone (SPF's %{l}): its hash part */
	at = g == RECORD_ADDR ? memchr(raw, '@', len) : NULL;
	if (at != NULL && kept && pc->nn < RECORD_NEEDLES) {
		char *lrep = pc->reps[pc->nn], *rat = strchr(rep, '@');
		size_t ll = rat != NULL ? (size_t)(rat - rep) : strlen(rep);

		memcpy(lrep, rep, ll);	/* ll < PSEUDO_OUT_MAX: rep is a pseudonym */
		lrep[ll] = '\0';
		record_needle_add(pc, raw, (size_t)(at - raw), lrep);
	} else if (at != NULL)
		record_needle_add(pc, raw, (size_t)(at - raw), NULL);
}

/* record_begin - set up pseudonymization for one record; msg NULL for
 * the session record */
void
record_begin(struct record_b *b, const struct session *s,
    const struct session_message *msg)
{
	const struct pseudo *p = s->env != NULL ? s->env->pseudo : NULL;
	const struct pseudo_modes *m;
	struct record_pctx *pc;
	unsigned i;

	if (!pseudo_active(p))
		return;
	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		b->err = 1;
		return;
	}
	b->p = p;
	b->pc = pc;
	m = pseudo_modes(p);
	if (m->client_addr != PSEUDO_KEEP && s->client_ip[0] != '\0')
		record_pctx_ip(b, s->client_ip);
	if (m->names != PSEUDO_KEEP) {
		if (s->helo_count > 0)
			record_pctx_one(b, RECORD_NAME, s->helo, strlen(s->helo));
		record_pctx_one(b, RECORD_NAME, s->ptr, strlen(s->ptr));
		record_pctx_one(b, RECORD_NAME, s->client_name,
		    strlen(s->client_name));
		for (i = 0; s->auth.dns != NULL && i < s->auth.iprev.nnames; i++)
			record_pctx_one(b, RECORD_NAME, s->auth.iprev.names[i],
			    strlen(s->auth.iprev.names[i]));
	}
	if (m->addresses != PSEUDO_KEEP && msg != NULL) {
		record_pctx_one(b, RECORD_ADDR, msg->from, strlen(msg->from));
		record_pctx_one(b, RECORD_ADDR, msg->auth_user,
		    strlen(msg->auth_user));
	}
	if (m->msgid != PSEUDO_KEEP && msg != NULL) {
		size_t len = strlen(msg->msgid);

		record_pctx_one(b, RECORD_MSGID, msg->msgid, len);
		if (len > 2 && msg->msgid[0] == '<' && msg->msgid[len - 1] == '>')
			record_pctx_one(b, RECORD_MSGID, msg->msgid + 1, len - 2);
	}
}

/* record_pseudo_keys - pseudonym_key and pseudonymized, when active */
void
record_pseudo_keys(struct record_b *b)
{
	const struct pseudo_modes *m;

	if (b->p == NULL)
		return;
	m = pseudo_modes(b->p);
	record_w_key(&b->w, "pseudonym_key");
	record_w_str(&b->w, pseudo_key_id(b->p));
	record_w_key(&b->w, "pseudonymized");
	record_w_open(&b->w, '[');
	if (m->client_addr != PSEUDO_KEEP)
		record_w_str(&b->w, "client_addr");
	if (m->names != PSEUDO_KEEP)
		record_w_str(&b->w, "names");
	if (m->addresses != PSEUDO_KEEP)
		record_w_str(&b->w, "addresses");
	if (m->msgid != PSEUDO_KEEP)
		record_w_str(&b->w, "msgid");
	record_w_close(&b->w, ']');
}

/* record_end - release the per-record state */
void
record_end(struct record_b *b)
{
	free(b->pc);
	b->pc = NULL;
}
