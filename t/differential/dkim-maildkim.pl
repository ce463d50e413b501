#!/usr/bin/perl
# dkim-maildkim.pl - Mail::DKIM's verdict on every signature of every
# generated case, DNS served from the key table, for the differential test.
#
# Usage: dkim-maildkim.pl OUTDIR > results
# Prints ID<TAB>INDEX<TAB>RESULT<TAB>DETAIL, one line per DKIM-Signature,
# top first (INDEX from 0). Fake DNS as in Mail::DKIM's own test suite:
# Mail::DKIM::DNS::query is replaced by a lookup in OUTDIR/keys.tsv (a
# name not there is NXDOMAIN). RESULT is Mail::DKIM's own word mapped:
# pass -> pass, fail -> fail, anything else (invalid, temperror, none,
# neutral) -> other. Mail::DKIM runs in its default (non-Strict) mode.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS;

my $dir = shift or die "usage: dkim-maildkim.pl OUTDIR\n";
my %keys;
open( my $kf, '<', "$dir/keys.tsv" ) or die "$dir/keys.tsv: $!\n";
while ( my $line = <$kf> ) {
    chomp $line;
    my ( $name, @strings ) = split /\t/, $line, -1;
    $keys{ lc $name } = \@strings;
}
close $kf;

{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ( $name, $type ) = @_;
        $name = lc $name;
        $name =~ s/\.$//;
        if ( uc $type ne 'TXT' || !exists $keys{$name} ) {
            $@ = 'NXDOMAIN';
            return;
        }
        $@ = 'NOERROR';
        return Net::DNS::RR->new(
            owner   => $name,
            type    => 'TXT',
            txtdata => $keys{$name}
        );
    };
}

open( my $cf, '<', "$dir/cases.tsv" ) or die "$dir/cases.tsv: $!\n";
while ( my $line = <$cf> ) {
    my ($id) = split /\t/, $line;
    open( my $mf, '<:raw', "$dir/msg/$id.eml" ) or die "$id: $!\n";
    my $msg = do { local $/; <$mf> };
    close $mf;
    my $v = Mail::DKIM::Verifier->new();
    $v->PRINT($msg);
    $v->CLOSE;
    my $i = 0;
    for my $sig ( $v->signatures ) {
        next unless $sig->isa('Mail::DKIM::Signature')
          && !$sig->isa('Mail::DKIM::DkSignature');
        my $r = $sig->result // 'none';
        my $word = $r eq 'pass' ? 'pass' : $r eq 'fail' ? 'fail' : 'other';
        my $detail = $sig->result_detail // '';
        $detail =~ s/[\t\r\n]/ /g;
        print "$id\t$i\t$word\t$detail\n";
        $i++;
    }
}
close $cf;
