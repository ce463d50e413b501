/*
 * fuzz_dnsanswer.c - fuzz target: hostile DNS answers (wire format) through
 * what smtpscope does with answers: records of a type, their rdata as text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_walk - every record of a type, printed as the glue code does */
static void
fuzz_walk(const struct dns_answer *a, uint16_t type)
{
	ldns_rr_list *l = dns_answer_records(a, type);
	size_t i, j;
	char *text;

	for (i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++) {
		for (j = 0; j < ldns_rr_rd_count(ldns_rr_list_rr(l, i)); j++) {
			text = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, i), j));
			LDNS_FREE(text);
		}
	}
	ldns_rr_list_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	if (ldns_wire2pkt(&a.pkt, data, size) != LDNS_STATUS_OK)
		return 0;
	a.rcode = ldns_pkt_get_rcode(a.pkt);
	fuzz_walk(&a, LDNS_RR_TYPE_PTR);
	fuzz_walk(&a, LDNS_RR_TYPE_A);
	fuzz_walk(&a, LDNS_RR_TYPE_AAAA);
	fuzz_walk(&a, LDNS_RR_TYPE_TXT);
	fuzz_walk(&a, LDNS_RR_TYPE_MX);
	dns_answer_free(&a);
	return 0;
}
