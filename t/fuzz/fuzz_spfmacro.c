/*
 * fuzz_spfmacro.c - fuzz target: RFC 7208 macro expansion (spf_macro.c).
 * Input: a mode byte, then "local-part NUL macro-string" (no NUL: the
 * whole rest is the macro-string). Expansion must never crash; a domain
 * name it returns is at most 253 characters unless it is one label; the
 * text written for libspf2 has only "%%", "%_" and a plain "%{p...}" as
 * escapes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/spf_macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ptr - %{p} */
static const char *
fuzz_ptr(void *arg)
{
	return arg;
}

/* fuzz_escapes_ok - every '%' of libspf2 text starts "%%", "%_", "%{p" */
static int
fuzz_escapes_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%' || s[1] == '_') {
			s++;
			continue;
		}
		if (s[1] != '{' || s[2] != 'p')
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_macro_vars v;
	char local[128] = "joel", sender[300], *text, *x;
	const char *nul;
	size_t tlen;
	enum spf_macro_mode mode;
	int six;

	if (size < 1 || size > 4096)
		return 0;
	mode = (enum spf_macro_mode)(data[0] % 3);
	six = data[0] & 0x80;
	data++;
	size--;
	nul = memchr(data, '\0', size);
	if (nul != NULL && (size_t)(nul - (const char *)data) < sizeof(local)) {
		memcpy(local, data, (size_t)(nul - (const char *)data));
		local[nul - (const char *)data] = '\0';
		size -= (size_t)(nul - (const char *)data) + 1;
		data = (const uint8_t *)nul + 1;
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tlen = strlen(text);
	memset(&v, 0, sizeof(v));
	snprintf(sender, sizeof(sender), "%s@mail-1.example.com", local);
	v.sender = sender;
	v.local = local;
	v.sender_dom = v.domain = "mail-1.example.com";
	v.helo = "mx.example.org";
	v.family = six ? AF_INET6 : AF_INET;
	memset(v.addr, 0xab, sizeof(v.addr));
	v.ptr_name = fuzz_ptr;
	v.ptr_arg = "p_1.example+net";
	x = spf_macro_expand(&v, text, tlen, mode);
	if (x != NULL && mode == SPF_MACRO_DOMAIN && strlen(x) > 254 &&
	    strchr(x, '.') != NULL && strchr(x, '.') < x + strlen(x) - 1)
		abort();
	if (x != NULL && mode == SPF_MACRO_LIBSPF2 && !fuzz_escapes_ok(x))
		abort();
	free(x);
	free(text);
	return 0;
}
