/*
 * greylist_config.c - struct greylist_params from a struct config: the
 * numbers as they are, the allow-lists split on spaces and commas and
 * parsed strictly.
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "greylist/greylist_config.h"

typedef int (*greylist_config_add_fn)(struct greylist_params *p,
    const char *item);

/* greylist_config_list - each space- or comma-separated item of text */
static int
greylist_config_list(struct greylist_params *p, const char *text,
    greylist_config_add_fn add, char *err, size_t errsz)
{
	char item[256];
	size_t n;
	int rc;

	while (text != NULL && *text != '\0') {
		text += strspn(text, " \t,");
		n = strcspn(text, " \t,");
		if (n == 0)
			break;
		if (n >= sizeof(item)) {
			snprintf(err, errsz, "entry too long: %.40s...", text);
			return SCOPE_EINVAL;
		}
		memcpy(item, text, n);
		item[n] = '\0';
		if ((rc = add(p, item)) == SCOPE_ETOOBIG) {
			snprintf(err, errsz, "more than %d entries",
			    GREYLIST_ALLOW_MAX);
			return SCOPE_EINVAL;
		}
		if (rc != SCOPE_OK) {
			snprintf(err, errsz, "not valid: %s", item);
			return SCOPE_EINVAL;
		}
		text += n;
	}
	return SCOPE_OK;
}

/* greylist_config - the greylisting keys of cfg as parameters */
int
greylist_config(const struct config *cfg, struct greylist_params *p,
    int *bad_key, char *err, size_t errsz)
{
	greylist_params_default(p);
	p->mode = (enum greylist_mode)cfg->greylist;
	p->delay_s = cfg->greylist_delay;
	p->window_s = cfg->greylist_retry_window;
	p->lifetime_s = cfg->greylist_lifetime;
	p->auto_allow = (unsigned)cfg->greylist_auto_allow;
	p->prefix4 = (unsigned)cfg->greylist_ipv4_prefix;
	p->prefix6 = (unsigned)cfg->greylist_ipv6_prefix;
	p->chain = cfg->greylist_chain;
	*bad_key = CONFIG_KEY_GREYLIST_ALLOW_NETWORKS;
	if (greylist_config_list(p, cfg->greylist_allow_networks,
	    greylist_parse_allow_net, err, errsz) != SCOPE_OK)
		return SCOPE_EINVAL;
	*bad_key = CONFIG_KEY_GREYLIST_ALLOW_DOMAINS;
	if (greylist_config_list(p, cfg->greylist_allow_domains,
	    greylist_parse_allow_domain, err, errsz) != SCOPE_OK)
		return SCOPE_EINVAL;
	return SCOPE_OK;
}
