/*
 * ipaddr.c - parse and mask addresses for network comparisons.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "errors.h"
#include "ipaddr.h"

/* ipaddr_family_name - see ipaddr.h */
const char *
ipaddr_family_name(int family)
{
	if (family == AF_INET)
		return "ipv4";
	if (family == AF_INET6)
		return "ipv6";
	return NULL;
}

/* ipaddr_parse - brackets and "IPv6:" removed, mapped IPv6 as IPv4 */
int
ipaddr_parse(const char *ip, unsigned char addr[16], int *family)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n;

	if (ip == NULL)
		return SCOPE_EINVAL;
	n = strlen(ip);
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip++;
		n -= 2;
	}
	if (n >= 5 && strncasecmp(ip, "IPv6:", 5) == 0) {
		ip += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(buf))
		return SCOPE_EINVAL;
	memcpy(buf, ip, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return SCOPE_OK;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return SCOPE_EINVAL;
	*family = AF_INET6;
	if (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return SCOPE_OK;
}

/* ipaddr_mask - keep the first len bits */
void
ipaddr_mask(unsigned char addr[16], unsigned len)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (len >= 8 * (i + 1))
			continue;
		if (len <= 8 * i)
			addr[i] = 0;
		else
			addr[i] &= (unsigned char)(0xff << (8 - (len - 8 * i)));
	}
}
