/*
 * ipaddr.h - client and rule addresses in binary, as greylisting and the
 * tag rules compare them.
 */
#ifndef SMTPSCOPE_IPADDR_H
#define SMTPSCOPE_IPADDR_H

/* ipaddr_parse - "192.0.2.1", "2001:db8::1", "[...]", "IPv6:..." (as
 * Sendmail writes them) into 16 bytes (IPv4 in the first 4); IPv4-mapped
 * IPv6 counts as IPv4; 0 or SCOPE_EINVAL */
int ipaddr_parse(const char *text, unsigned char addr[16], int *family);
/* ipaddr_family_name - "ipv4" for AF_INET, "ipv6" for AF_INET6, else
 * NULL (as records and metrics name a family) */
const char *ipaddr_family_name(int family);
/* ipaddr_mask - clear every bit of the 16 bytes after the first len */
void ipaddr_mask(unsigned char addr[16], unsigned len);

#endif
