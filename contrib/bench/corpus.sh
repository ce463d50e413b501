#!/bin/bash
# corpus.sh - write the end-to-end benchmark's message corpus and DNS data
#
# SYNOPSIS
#	contrib/bench/corpus.sh DIR
#
# DESCRIPTION
#	Writes into DIR (created if needed):
#
#	plain-2k.eml, plain-2k-signed.eml        about 2 KB, text/plain
#	alt-10k.eml, alt-10k-signed.eml          about 10 KB, multipart/alternative
#	                                         (text + quoted-printable HTML)
#	attach-100k.eml, attach-100k-signed.eml  about 100 KB, multipart/mixed with
#	                                         a base64 PDF-like attachment
#	sel1.private                             the 2048-bit RSA signing key
#	bench.example.zone                       zone file: SOA, NS, A, MX, SPF,
#	                                         sel1._domainkey (p=), _dmarc (p=none)
#	bench.example.unbound.conf               the same records as unbound
#	                                         local-zone/local-data lines, and
#	                                         the PTR of 192.0.2.25 (mail-out2.
#	                                         bench.example: smtpscope-bench's
#	                                         client, for iprev)
#	MANIFEST                                 one line per message: file, bytes
#
#	The messages look like what an MX receives from a bulk sender: a
#	DKIM-Signature on top (signed variants only), a Received chain, From,
#	Reply-To, To, Subject, Date, Message-ID, MIME-Version, List-Id,
#	List-Unsubscribe, List-Unsubscribe-Post, Feedback-ID. Each signed file
#	is its unsigned twin plus one DKIM-Signature (rsa-sha256,
#	relaxed/relaxed, d=bench.example, s=sel1), made with Mail::DKIM::Signer
#	(Debian: libmail-dkim-perl) over the CRLF form of the message.
#
#	The files have LF line ends: smtp-source -F sends each line followed by
#	CRLF (and dot-stuffs), so what arrives is exactly the signed CRLF form.
#	Content is pseudo-random but deterministic (fixed seed); the key and
#	the Date header are new on each run.
#
# DIAGNOSTICS
#	Exits non-zero with a message on stderr when openssl or Mail::DKIM is
#	missing or a step fails.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null || { echo "$0: openssl is not installed" >&2; exit 1; }
perl -MMail::DKIM::Signer -e 1 2>/dev/null ||
	{ echo "$0: Mail::DKIM is missing (apt-get install libmail-dkim-perl)" >&2; exit 1; }
mkdir -p "$dir"
chmod 755 "$dir"

openssl genrsa -out "$dir/sel1.private" 2048 2>/dev/null
chmod 600 "$dir/sel1.private"
pub=$(openssl rsa -in "$dir/sel1.private" -pubout -outform DER 2>/dev/null | base64 -w0)
[ -n "$pub" ] || { echo "$0: could not derive the public key" >&2; exit 1; }

DIR=$dir PUB=$pub perl -w - <<'PERL'
use strict;
use Mail::DKIM::Signer;
use MIME::Base64 qw(encode_base64);
use MIME::QuotedPrint qw(encode_qp);
use POSIX qw(strftime);

my $dir = $ENV{DIR};
my $pub = $ENV{PUB};
srand(20261128);

my @words = qw(the of and to in is you that it he was for on are as with his they
  at be this have from or one had by word but not what all were we when your can
  said there use an each which she do how their if will up other about out many
  then them these so some her would make like him into time has look two more
  write go see number no way could people my than first water been call who oil
  its now find long down day did get come made may part account order delivery
  invoice update report meeting project quarter budget release customer service
  support network server message schedule review team weekly summary details
  please thanks regards attached document security notice password reminder);

sub sentence {
	my $n = 6 + int(rand(12));
	my @w = map { $words[int(rand(@words))] } 1 .. $n;
	$w[0] = ucfirst $w[0];
	return join(' ', @w) . '.';
}

# wrap - fill text to lines of at most 72 characters
sub wrap {
	my ($text) = @_;
	my (@out, $line);
	$line = '';
	for my $w (split / /, $text) {
		if (length($line) + length($w) + 1 > 72) { push @out, $line; $line = $w; }
		else { $line = $line eq '' ? $w : "$line $w"; }
	}
	push @out, $line if $line ne '';
	return join("\n", @out) . "\n";
}

# paragraphs - plain text of about BYTES bytes, blank lines between paragraphs
sub paragraphs {
	my ($bytes) = @_;
	my $t = '';
	while (length($t) < $bytes) {
		$t .= wrap(join(' ', map { sentence() } 1 .. 3 + int(rand(4)))) . "\n";
	}
	return $t;
}

sub html_of {
	my ($bytes) = @_;
	my $h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	  . "<title>Bench News</title>\n<style>body{font-family:Arial,sans-serif;"
	  . "color:#333}td{padding:8px}a{color:#0a58ca}</style></head>\n"
	  . "<body><table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">\n";
	my $i = 0;
	while (length($h) < $bytes) {
		$i++;
		$h .= "<tr><td class=\"item\" style=\"border-bottom:1px solid #ddd\">"
		  . "<h2>" . sentence() . "</h2><p>" . join(' ', map { sentence() } 1 .. 4)
		  . " <a href=\"https://bench.example/r/$i?utm_source=news&amp;utm_medium=email\">"
		  . "Read more</a></p></td></tr>\n";
	}
	return $h . "</table><p style=\"font-size:11px\">You receive this because you subscribed. "
	  . "<a href=\"https://bench.example/u/7f3a9c\">Unsubscribe</a></p></body></html>\n";
}

my $date = strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime());
my $rdate = $date;

sub headers {
	my ($name, $subject, $ctype) = @_;
	return "Received: from app03.int.bench.example (app03.int.bench.example [10.20.3.17])\n"
	  . "\tby mail-out2.bench.example (Postfix) with ESMTPS id 4Q2B5k3XyZz9sTB\n"
	  . "\tfor <bob\@smtpscope.test>; $rdate\n"
	  . "Received: by app03.int.bench.example (Postfix, from userid 1001)\n"
	  . "\tid 7C1D2E0045; $rdate\n"
	  . "From: \"Bench News\" <news\@bench.example>\n"
	  . "Reply-To: Bench Support <support\@bench.example>\n"
	  . "To: Bob Example <bob\@smtpscope.test>\n"
	  . "Subject: $subject\n"
	  . "Date: $date\n"
	  . "Message-ID: <$name.20261128.4f2a91\@mail-out2.bench.example>\n"
	  . "MIME-Version: 1.0\n"
	  . "Content-Type: $ctype\n"
	  . "List-Id: Bench News <news.bench.example>\n"
	  . "List-Unsubscribe: <https://bench.example/u/7f3a9c>,\n"
	  . " <mailto:unsubscribe\@bench.example?subject=unsubscribe-7f3a9c>\n"
	  . "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
	  . "Feedback-ID: 7f3a9c:news:bench.example\n"
	  . "X-Mailer: bench-mailer 2.4\n";
}

my %msg;

# about 2 KB, text/plain
{
	my $h = headers('plain-2k', 'Your weekly summary', 'text/plain; charset=utf-8')
	  . "Content-Transfer-Encoding: 7bit\n";
	$msg{'plain-2k'} = $h . "\n" . paragraphs(2000 - length($h) - 60)
	  . "-- \nBench News, 1 Example Way\n";
}

# about 10 KB, multipart/alternative
{
	my $b = '=_alt_4f2a91c0';
	my $h = headers('alt-10k', 'Project update: quarter review and release notes',
	  "multipart/alternative; boundary=\"$b\"");
	my $body = "This is a multi-part message in MIME format.\n\n--$b\n"
	  . "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
	  . paragraphs(2600) . "--$b\n"
	  . "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n";
	my $rest = 10000 - length($h) - length($body) - 100;
	$body .= encode_qp(html_of($rest * 0.97)) . "\n--$b--\n";
	$msg{'alt-10k'} = $h . "\n" . $body;
}

# about 100 KB, multipart/mixed with a base64 attachment
{
	my $b1 = '=_mix_9e1b77d2';
	my $b2 = '=_alt_9e1b77d3';
	my $h = headers('attach-100k', 'Invoice 2026-11-0042 and delivery report',
	  "multipart/mixed; boundary=\"$b1\"");
	my $body = "This is a multi-part message in MIME format.\n\n--$b1\n"
	  . "Content-Type: multipart/alternative; boundary=\"$b2\"\n\n--$b2\n"
	  . "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
	  . paragraphs(1200) . "--$b2\n"
	  . "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
	  . encode_qp(html_of(2500)) . "\n--$b2--\n\n--$b1\n"
	  . "Content-Type: application/pdf; name=\"invoice-2026-11-0042.pdf\"\n"
	  . "Content-Disposition: attachment; filename=\"invoice-2026-11-0042.pdf\"\n"
	  . "Content-Transfer-Encoding: base64\n\n";
	my $raw = int((100000 - length($h) - length($body) - 40) * 57 / 77);
	my $bin = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" . join('', map { chr(int(rand(256))) } 1 .. $raw - 15);
	$body .= encode_base64($bin) . "\n--$b1--\n";
	$msg{'attach-100k'} = $h . "\n" . $body;
}

open(my $man, '>', "$dir/MANIFEST") or die "MANIFEST: $!";
for my $name (sort keys %msg) {
	my $lf = $msg{$name};
	my $crlf = $lf;
	$crlf =~ s/\n/\015\012/g;
	my $signer = Mail::DKIM::Signer->new(
		Algorithm => 'rsa-sha256', Method => 'relaxed/relaxed',
		Domain => 'bench.example', Selector => 'sel1',
		KeyFile => "$dir/sel1.private",
		Headers => 'list-unsubscribe-post:feedback-id');
	$signer->PRINT($crlf);
	$signer->CLOSE;
	my $sig = $signer->signature->as_string;
	$sig =~ s/\015\012/\n/g;
	$sig =~ s/\n*\z//;
	# Fold as signers do. Safe after signing: relaxed header
	# canonicalization turns "; " and ";\n\t" into the same "; ", and
	# the b= value (whitespace included) is emptied before verifying.
	my ($pre, $b) = $sig =~ /\A(.*); b=(\S+)\z/s or die "$name: no b= tag";
	my ($out, $line) = ('', '');
	for my $t (split /; /, $pre) {
		if ($line ne '' && length($line) + length($t) + 2 > 76) {
			$out .= "$line;\n\t";
			$line = $t;
		} else {
			$line = $line eq '' ? $t : "$line; $t";
		}
	}
	$sig = "$out$line;\n\tb=" . join("\n\t  ", $b =~ /(.{1,70})/g) . "\n";
	for my $v ([$name, $lf], ["$name-signed", $sig . $lf]) {
		open(my $f, '>', "$dir/$v->[0].eml") or die "$v->[0]: $!";
		print $f $v->[1];
		close($f) or die "$v->[0]: $!";
		# bytes on the wire: CRLF line ends
		my $wire = length($v->[1]) + ($v->[1] =~ tr/\n//);
		print $man "$v->[0].eml $wire\n";
	}
}
close($man);

# DNS data: zone file and unbound local-data
my $dkim_txt = join(' ', map { "\"$_\"" } ("v=DKIM1; k=rsa; p=$pub" =~ /(.{1,250})/g));
my @rr = (
	['bench.example.', 'SOA', 'ns1.bench.example. hostmaster.bench.example. 2026112801 3600 900 604800 300'],
	['bench.example.', 'NS', 'ns1.bench.example.'],
	['ns1.bench.example.', 'A', '198.51.100.53'],
	['bench.example.', 'A', '192.0.2.25'],
	['bench.example.', 'MX', '10 mail-out2.bench.example.'],
	['mail-out2.bench.example.', 'A', '192.0.2.25'],
	['bench.example.', 'TXT', '"v=spf1 ip4:127.0.0.0/8 ip6:::1/128 ip4:192.0.2.0/24 -all"'],
	['sel1._domainkey.bench.example.', 'TXT', $dkim_txt],
	['_dmarc.bench.example.', 'TXT', '"v=DMARC1; p=none; rua=mailto:dmarc@bench.example"'],
);
# the reverse name of smtpscope-bench's client address (iprev); not in the zone file
my @ptr = (['25.2.0.192.in-addr.arpa.', 'PTR', 'mail-out2.bench.example.']);
open(my $z, '>', "$dir/bench.example.zone") or die "zone: $!";
print $z "\$TTL 3600\n";
printf $z "%-32s IN %-4s %s\n", @$_ for @rr;
close($z);
open(my $u, '>', "$dir/bench.example.unbound.conf") or die "unbound: $!";
print $u "\tlocal-zone: \"bench.example.\" static\n";
printf $u "\tlocal-data: '%s 3600 IN %s %s'\n", @$_ for @rr;
print $u "\tlocal-zone: \"25.2.0.192.in-addr.arpa.\" static\n";
printf $u "\tlocal-data: '%s 3600 IN %s %s'\n", @$_ for @ptr;
close($u);
PERL
echo "corpus in $dir:"
sed 's/^/  /' "$dir/MANIFEST"
