/*
 * greylist_config.h - greylisting parameters from smtpscope.conf, shared
 * by the daemon and smtpscope-greylist.
 */
#ifndef SMTPSCOPE_GREYLIST_CONFIG_H
#define SMTPSCOPE_GREYLIST_CONFIG_H

#include <stddef.h>

#include "config.h"
#include "greylist/greylist.h"

/* greylist_config - fill p from cfg; on a bad allow-list entry returns
 * SCOPE_EINVAL with *bad_key (enum config_key_id) and err naming the
 * entry */
int greylist_config(const struct config *cfg, struct greylist_params *p,
    int *bad_key, char *err, size_t errsz);

#endif
