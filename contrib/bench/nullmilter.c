/*
 * nullmilter.c - a libmilter milter that does nothing, as a baseline for
 * the benchmarks: what any libmilter milter costs the MTA.
 *
 * SYNOPSIS
 *	nullmilter -p SOCKET [-a]
 *
 * By default it negotiates exactly the steps, no-reply flags and macro
 * lists smtpscope negotiates, so that smtpscope minus nullmilter is
 * smtpscope's own work. With -a it asks for every callback and answers
 * each one (no no-reply flags, no macro lists): the "do-nothing libmilter
 * that asks for every callback" of the lab notes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "macro.h"

static int null_all;

/* null_negotiate - smtpscope's negotiation, or everything with -a */
static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	if (null_all)
		return SMFIS_ALL_OPTS;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	*pf1 = f1 & (SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_NR_BODY | SMFIP_NR_UNKN | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC);
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)macro_list_connect);
		smfi_setsymlist(ctx, SMFIM_HELO, (char *)macro_list_helo);
		smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)macro_list_envfrom);
		smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)macro_list_envrcpt);
		smfi_setsymlist(ctx, SMFIM_DATA, (char *)macro_list_data);
		smfi_setsymlist(ctx, SMFIM_EOH, (char *)macro_list_eoh);
		smfi_setsymlist(ctx, SMFIM_EOM, (char *)macro_list_eom);
	}
	return SMFIS_CONTINUE;
}

/* null_reply - NOREPLY where negotiated, else CONTINUE */
static sfsistat
null_reply(void)
{
	return null_all ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

static sfsistat null_cont_conn(SMFICTX *c, char *h, _SOCK_ADDR *a)
{ (void)c; (void)h; (void)a; return SMFIS_CONTINUE; }
static sfsistat null_cont_str(SMFICTX *c, char *s)
{ (void)c; (void)s; return SMFIS_CONTINUE; }
static sfsistat null_cont_argv(SMFICTX *c, char **v)
{ (void)c; (void)v; return SMFIS_CONTINUE; }
static sfsistat null_hdr(SMFICTX *c, char *n, char *v)
{ (void)c; (void)n; (void)v; return null_reply(); }
static sfsistat null_ctx(SMFICTX *c)
{ (void)c; return null_reply(); }
static sfsistat null_body(SMFICTX *c, unsigned char *b, size_t l)
{ (void)c; (void)b; (void)l; return null_reply(); }
static sfsistat null_end(SMFICTX *c)
{ (void)c; return SMFIS_CONTINUE; }

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		"nullmilter", SMFI_VERSION, SMFIF_SETSYMLIST, null_cont_conn,
		null_cont_str, null_cont_argv, null_cont_argv, null_hdr,
		null_ctx, null_body, null_end, null_end, null_end, NULL,
		null_ctx, null_negotiate
	};
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:a")) != -1) {
		if (ch == 'p')
			sock = optarg;
		else if (ch == 'a')
			null_all = 1;
		else
			sock = NULL;
	}
	if (sock == NULL) {
		fprintf(stderr, "usage: nullmilter -p SOCKET [-a]\n");
		return 64;
	}
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn((char *)sock) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)
		return 71;
	if (strncmp(sock, "unix:", 5) == 0)
		(void)chmod(sock + 5, 0666);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
