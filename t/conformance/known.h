/*
 * known.h - the documented disagreements of a conformance suite: a file
 * of "name TAB reason" lines ('#' starts a comment line). A case listed
 * there runs as TAP TODO, so it stays visible without failing the suite.
 */
#ifndef SMTPSCOPE_KNOWN_H
#define SMTPSCOPE_KNOWN_H

#define KNOWN_MAX	256	/* entries kept; more are ignored */

/* known_load - read the list; a missing file is an empty list */
void known_load(const char *path);
/* known_reason - why a case may disagree, or NULL */
const char *known_reason(const char *name);
/* known_free - release the list */
void known_free(void);

#endif
