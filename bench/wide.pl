#!/usr/bin/env perl
# bench/wide.pl - rows for the wide-table bench (bench/wide.sql): every one valid, the same
# rows for the same arguments on any machine (a fixed linear congruential generator, no clock).
#
#   perl bench/wide.pl ROWS FILES DIR ALL
#
# writes FILES files DIR/wide_00000.csv ... (ROWS / FILES rows each, a header in every file) and
# the same rows, in the same order, once more into the single file ALL (one header), for
# `psql \copy`. Keys (site, seq) are unique: seq counts rows; site is one of 16 names. Fields
# cover every column type of bench/wide.sql, some with quotes, commas or doubled quotes, so the
# CSV reader's quoted path is exercised too.
use strict;
use warnings;

my ($rows, $files, $dir, $all) = @ARGV;
die "usage: wide.pl ROWS FILES DIR ALL\n" unless defined $all && $files > 0 && $rows >= $files;
my $per = int($rows / $files);
mkdir $dir or die "wide.pl: $dir: $!\n" unless -d $dir;

my $x = 42;
# the low bits of such a generator repeat quickly: keep the top 23 of 31
sub draw { $x = ($x * 1103515245 + 12345) & 0x7fffffff; return $x >> 8; }

my @days;  # 2024-01-01 .. 2026-09-26, as text
{
    my @len = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);
    for my $y (2024 .. 2026) {
        for my $m (1 .. 12) {
            my $n = $len[$m - 1] - ($m == 2 && $y % 4 ? 1 : 0);
            push @days, sprintf("%04d-%02d-%02d", $y, $m, $_) for 1 .. $n;
        }
    }
}
my @kinds = ('view', 'cart', 'purchase');
my @moods = ('calm', 'busy', 'wild');
my @words = ('plain', 'with, comma', 'say ""hi""', 'naïve café', 'tab	in');
my @sites = map { "site$_" } 0 .. 15;
my $header = "site,seq,small,n,amount,ratio,weight,flag,uid,day,at,ts,tstz,label,name,code,"
    . "kind,doc,docb,mood,pct\n";

open(my $allfh, '>', $all) or die "wide.pl: $all: $!\n";
print $allfh $header;
my $seq = 0;
for my $f (0 .. $files - 1) {
    my $path = sprintf("%s/wide_%05d.csv", $dir, $f);
    open(my $fh, '>', $path) or die "wide.pl: $path: $!\n";
    my $buf = $header;
    my $body = '';
    for (1 .. $per) {
        $seq++;
        my ($a, $b, $c, $d) = (draw(), draw(), draw(), draw());
        my $sec = $a % 86400;
        my $day = $days[$b % @days];
        my $clock = sprintf("%02d:%02d:%02d", $sec / 3600, $sec / 60 % 60, $sec % 60);
        $body .= join(',',
            $sites[$seq % 16],
            $seq,
            ($c % 2000) + 1,                                          # smallint, <> 0
            ($d % 1000) + 1,                                          # 1 .. 1000
            sprintf("%d.%02d", $a % 100000, $b % 100 || 1),           # numeric(10,2) > 0
            sprintf("%.3f", ($c % 100000) / 997),                     # real
            sprintf("%.6f", ($d % 1000000) / 1009 + 0.5),             # double precision > 0
            ($a & 1 ? 'true' : 'f'),
            sprintf("%06x%02x-%04x-4%03x-%04x-%06x%06x", $a, $seq & 0xff, $b & 0xffff,
                $c & 0xfff, 0x8000 | ($d & 0x3fff), $b, $c ^ $d),
            $day,
            $clock,
            sprintf("%s %s.%06d", $day, $clock, $b % 1000000),
            "$day ${clock}+02:00",
            '"' . $words[$c % @words] . " $seq\"",                  # text, quoted
            "item$d",
            sprintf("%03d", $a % 1000),                               # char(3), length 3
            $kinds[$b % 3],
            "\"{\"\"k\"\": $c, \"\"tags\"\": [\"\"a\"\", \"\"b\"\"]}\"",
            "\"{\"\"id\"\": $seq, \"\"ok\"\": true, \"\"v\"\": $d.5}\"",
            $moods[$d % 3],
            sprintf("%d.%02d", $a % 100, $c % 100),                   # 0 .. 99.99
        ) . "\n";
    }
    print $fh $buf, $body or die "wide.pl: $path: $!\n";
    close($fh) or die "wide.pl: $path: $!\n";
    print $allfh $body or die "wide.pl: $all: $!\n";
}
close($allfh) or die "wide.pl: $all: $!\n";
