#!/usr/bin/perl
# spf-mailspf.pl - run SPF cases (the JSON documents spf-gen.py writes)
# through Mail::SPF (Debian libmail-spf-perl), DNS served from each
# scenario's zonedata by Net::DNS::Resolver::Programmable: names and
# types as listed, CNAMEs followed (at most 10), TIMEOUT names SERVFAIL.
# Prints NAME TAB RESULT TAB EXPLANATION per test, named as spf_suite and
# spf-pyspf.py name them. The third reference for the classes where
# pyspf departs from RFC 7208 (spf-pyspf.py --third).
#
# Usage: spf-mailspf.pl SUITE cases.yml [NAME...]  (only those names;
# "-" reads them from standard input, one a line)
use strict;
use warnings;
use JSON::PP;
use Mail::SPF;
use Net::DNS;
use Net::DNS::Resolver::Programmable;

my ($suite, $path, @only) = @ARGV;
if (@only == 1 && $only[0] eq '-') {
	@only = map { chomp; $_ } <STDIN>;
}
my %only = map { $_ => 1 } @only;
my %zone;

# zone_rr - one zonedata entry as a Net::DNS::RR, or undef
sub zone_rr {
	my ($owner, $type, $v) = @_;
	my $text;
	if ($type eq 'TXT' || $type eq 'SPF') {
		my @s = ref $v ? @$v : ($v);
		return undef if @s == 1 && $s[0] eq 'NONE';
		return Net::DNS::RR->new(owner => $owner, type => 'TXT',
		    ttl => 300, txtdata => [@s]);
	}
	if ($type eq 'MX') {
		$text = "$v->[0] $v->[1].";
	} elsif ($type eq 'PTR' || $type eq 'CNAME') {
		$text = "$v.";
	} else {
		$text = $v;
	}
	return Net::DNS::RR->new("$owner. 300 IN $type $text");
}

# load - zonedata into %zone: lc name => { TYPE => [rr...], TIMEOUT => 1 }
sub load {
	my ($zd) = @_;
	%zone = ();
	for my $owner (keys %$zd) {
		my $n = lc $owner;
		my ($has_txt, @spf) = (0);
		$zone{$n} ||= {};
		for my $e (@{ $zd->{$owner} }) {
			if (!ref $e) {
				$zone{$n}{TIMEOUT} = 1 if $e eq 'TIMEOUT';
				next;
			}
			for my $type (keys %$e) {
				$has_txt = 1 if $type eq 'TXT';
				push @spf, $e->{$type} if $type eq 'SPF';
				next if $type eq 'SPF';
				my $r = zone_rr($n, $type, $e->{$type});
				push @{ $zone{$n}{$type} }, $r if $r;
			}
		}
		unless ($has_txt) {	# SPF served as TXT, as the suites do
			for my $v (@spf) {
				my $r = zone_rr($n, 'TXT', $v);
				push @{ $zone{$n}{TXT} }, $r if $r;
			}
		}
	}
}

# answer - resolver_code: (rcode, aa, answers)
sub answer {
	my ($name, $type) = @_;
	my @out;
	$name = lc $name;
	$name =~ s/\.$//;
	for (my $hops = 0; $hops <= 10; $hops++) {
		my $z = $zone{$name};
		return ('SERVFAIL', undef) if $z && $z->{TIMEOUT};
		return ($hops ? 'NOERROR' : 'NXDOMAIN', undef, @out) unless $z;
		if ($z->{$type}) {
			return ('NOERROR', undef, @out, @{ $z->{$type} });
		}
		return ('NOERROR', undef, @out) unless $z->{CNAME};
		push @out, $z->{CNAME}[0];
		$name = lc $z->{CNAME}[0]->cname;
	}
	return ('SERVFAIL', undef);
}

my $resolver = Net::DNS::Resolver::Programmable->new(
    resolver_code => \&answer);
my $server = Mail::SPF::Server->new(dns_resolver => $resolver,
    max_void_dns_lookups => 2, default_authority_explanation => 'DEFAULT');
open(my $fp, '<', $path) or die "$path: $!";
local $/ = "---\n";
while (my $doc = <$fp>) {
	$doc =~ s/---\n$//;
	next unless $doc =~ /\S/;
	my $scen = decode_json($doc);
	my ($tname) = keys %{ $scen->{tests} };
	my $name = "$suite $scen->{description}: $tname";
	next if @only && !$only{$name};
	my $t = $scen->{tests}{$tname};
	load($scen->{zonedata});
	my ($code, $exp) = ('crash', 'DEFAULT');
	eval {
		# a null sender: postmaster@HELO (RFC 7208 2.4)
		my $id = $t->{mailfrom} ne '' ? $t->{mailfrom} :
		    "postmaster\@$t->{helo}";
		my $req = Mail::SPF::Request->new(scope => 'mfrom',
		    identity => $id, ip_address => $t->{host},
		    helo_identity => $t->{helo});
		my $res = $server->process($req);
		$code = $res->code;
		if ($code eq 'fail' && $res->can('authority_explanation')) {
			my $e = eval { $res->authority_explanation };
			$exp = $e if defined $e && $e ne '';
		}
		1;
	} or $code = 'crash';
	print "$name\t$code\t$exp\n";
}
