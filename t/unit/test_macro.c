/*
 * test_macro.c - normalisation of Postfix and Sendmail macros.
 */
#include <arpa/inet.h>
#include <string.h>

#include "macro.h"
#include "macros_fake.h"
#include "tap.h"

int
main(void)
{
	static const char *const postfix_tls[] = {
		"{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
		"{cipher_bits}", "256", "{cert_subject}", "client.smtpscope.test",
		"{cert_issuer}", "smtpscope Test CA", NULL
	};
	static const char *const sendmail_ok[] = {
		"{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
		"{cipher_bits}", "256", "{verify}", "OK",
		"{cert_subject}", "/O=Test+20Client/CN=client.smtpscope.test",
		"{cert_issuer}", "/CN=smtpscope+20Test+20CA",
		"{cn_subject}", "client.smtpscope.test", "{cert_md5}", "AB:CD", NULL
	};
	static const char *const sendmail_fail[] = {
		"{tls_version}", "TLSv1", "{cipher_bits}", "abc", "{verify}", "FAIL",
		"{cert_subject}", "/CN=rogue", NULL
	};
	static const char *const sendmail_nocert[] = {
		"{tls_version}", "TLSv1.3", "{verify}", "NO", NULL
	};
	static const char *const plain[] = { "j", "mx", NULL };
	struct macro_src m;
	struct tls_info tls;
	char out[128], ver[64];
	bool cut;
	int fam = 0;

	plan(28);
	m = fake_src(postfix_tls);
	is_int(macro_read_tls(&m, &tls, &cut), 1, "Postfix: TLS seen");
	is_str(tls.version, "TLSv1.3", "Postfix: version");
	is_str(tls.cipher, "TLS_AES_256_GCM_SHA384", "Postfix: cipher");
	is_int(tls.bits, 256, "Postfix: bits as integer");
	ok(tls.peer, "Postfix: certificate subject means a peer certificate");
	is_int(tls.verified, -1, "Postfix: verified is unknown (no {verify})");
	is_str(tls.subject, "client.smtpscope.test", "Postfix: subject CN kept");

	m = fake_src(sendmail_ok);
	macro_read_tls(&m, &tls, &cut);
	is_int(tls.verified, 1, "Sendmail: {verify}=OK is verified");
	is_str(tls.subject, "/O=Test Client/CN=client.smtpscope.test",
	    "Sendmail: xtext subject decoded");
	is_str(tls.issuer, "/CN=smtpscope Test CA", "Sendmail: xtext issuer decoded");
	is_str(tls.cn_subject, "client.smtpscope.test", "Sendmail: cn_subject kept");
	is_str(tls.cert_md5, "AB:CD", "Sendmail: cert_md5 kept");

	m = fake_src(sendmail_fail);
	macro_read_tls(&m, &tls, &cut);
	is_int(tls.verified, 0, "Sendmail: {verify}=FAIL is not verified");
	ok(tls.peer, "Sendmail: FAIL still means a certificate was shown");
	is_str(tls.version, "TLSv1.0", "TLSv1 is normalised to TLSv1.0");
	is_int(tls.bits, -1, "non-numeric cipher_bits is unknown");

	m = fake_src(sendmail_nocert);
	macro_read_tls(&m, &tls, &cut);
	ok(!tls.peer, "Sendmail: {verify}=NO means no certificate");

	m = fake_src(plain);
	is_int(macro_read_tls(&m, &tls, &cut), 0, "no {tls_version}: no TLS");

	macro_addr("IPv6:0:0:0:0:0:0:0:1", out, sizeof(out), &fam);
	is_str(out, "::1", "Sendmail IPv6 form is canonicalised");
	is_int(fam, AF_INET6, "IPv6 family");
	macro_addr("::ffff:192.0.2.1", out, sizeof(out), &fam);
	is_str(out, "192.0.2.1", "IPv4-mapped IPv6 becomes IPv4");
	is_int(fam, AF_INET, "mapped address counts as IPv4");
	macro_addr("[198.51.100.7]", out, sizeof(out), &fam);
	is_str(out, "198.51.100.7", "bracketed address is unwrapped");
	ok(macro_addr("not-an-address", out, sizeof(out), &fam) != 0,
	    "garbage is not an address");

	is_int(macro_mta_detect("Postfix 3.7.11", ver, sizeof(ver)),
	    MACRO_MTA_POSTFIX, "Postfix detected from v");
	is_str(ver, "3.7.11", "Postfix version");
	is_int(macro_mta_detect("8.17.1.9", ver, sizeof(ver)),
	    MACRO_MTA_SENDMAIL, "Sendmail detected from v");
	macro_xtext_decode("a+2Bb+zz+", out, sizeof(out), &cut);
	is_str(out, "a+b+zz+", "bad xtext escapes stay literal");
	return done_testing();
}
