#!/usr/bin/perl
# gen_values.pl FAMILY COUNT SEED - values for the date/time differential test
# (tests/integration/t_types_time.sh), one COPY-text value a line. FAMILY is date, time or
# timestamp. About half are valid ISO values across the whole range (leap years, month ends,
# 24:00, second 60, long fractions, offsets that cross days and years, years 0001 and 9999), the
# rest are mutations of them (truncated, bytes flipped, inserted or deleted, fields out of range,
# wrong separators, white space) and forms PostgreSQL reads but sluice refuses on purpose.
use strict;
use warnings;

my ($family, $count, $seed) = @ARGV;
die "usage: gen_values.pl date|time|timestamp COUNT SEED\n" unless defined $seed;
srand($seed);

sub pick { return $_[ int(rand(@_)) ]; }

sub days_in_month {
    my ($y, $m) = @_;
    return 29 if $m == 2 && $y % 4 == 0 && ($y % 100 != 0 || $y % 400 == 0);
    return (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[ $m - 1 ];
}

sub year {
    my $r = rand();
    return pick(1, 2, 4, 99, 100, 400, 1582, 1900, 1970, 1999, 2000, 2001, 2024, 2100, 9998, 9999)
        if $r < 0.25;
    return 1 + int(rand(9999)) if $r < 0.6;
    return 1950 + int(rand(100));
}

sub date {
    my $y = year();
    my $m = 1 + int(rand(12));
    my $r = rand();
    my $d = $r < 0.25 ? days_in_month($y, $m) : $r < 0.35 ? 1 : 1 + int(rand(days_in_month($y, $m)));
    ($m, $d) = (2, 29) if rand() < 0.05;              # invalid on common years
    ($y, $m, $d) = (pick(1, 9999), pick(1, 12), pick(1, 31)) if rand() < 0.05;
    $d = 31 if $d == 1 && $m == 12;
    return sprintf("%04d-%02d-%02d", $y, $m, $d);
}

sub fraction {
    my $r = rand();
    return "" if $r < 0.3;
    my $n = $r < 0.85 ? 1 + int(rand(6)) : $r < 0.97 ? 7 + int(rand(8)) : 15 + int(rand(130));
    my $f = join("", map { int(rand(10)) } 1 .. $n);
    my $e = rand();
    if ($e < 0.1) {
        $f = "9" x $n;
    } elsif ($e < 0.25) {
        substr($f, -1) = "5";
    } elsif ($e < 0.3 && $n > 6) {
        substr($f, 6) = "5" . ("0" x ($n - 7));            # exactly half a microsecond
    }
    return ".$f";
}

sub clock {
    my $r = rand();
    return pick("24:00", "24:00:00", "24:00:00.000", "24:00:00.0000001", "23:59:60", "23:59:60.0",
                "23:59:59.9999995", "23:59:59.9999999", "00:00", "00:00:00", "12:59:60.5",
                "12:59:60.9999999", "23:59:60.5", "24:00:00.5", "23:59:59.5")
        if $r < 0.06;
    my ($h, $m) = (int(rand(24)), int(rand(60)));
    ($h, $m) = (pick(0, 23), pick(0, 59)) if rand() < 0.2;
    return sprintf("%02d:%02d", $h, $m) if $r < 0.15;
    my $s = rand() < 0.03 ? 60 : int(rand(60));
    return sprintf("%02d:%02d:%02d", $h, $m, $s) . fraction();
}

sub offset {
    my $r = rand();
    return "" if $r < 0.35;
    my $space = rand() < 0.1 ? " " : "";
    return $space . pick("Z", "z") if $r < 0.45;
    my $sign = pick("+", "-");
    my $h = rand() < 0.3 ? pick(0, 1, 14, 15) : int(rand(16));
    my $m = pick(0, 0, 30, 45, 59, int(rand(60)));
    my $form = int(rand(3));
    return $space . sprintf("%s%02d", $sign, $h) if $form == 0;
    return $space . sprintf("%s%02d%02d", $sign, $h, $m) if $form == 1;
    return $space . sprintf("%s%02d:%02d", $sign, $h, $m);
}

sub timestamp {
    my $r = rand();
    return date() if $r < 0.08;
    my $sep = rand() < 0.8 ? " " : rand() < 0.9 ? "T" : "t";
    if ($r < 0.2) {    # at the edges of days, years and the range, where offsets cross them
        my $d = pick("0001-01-01", "9999-12-31", "2024-12-31", "2025-01-01", "2024-02-28",
                     "2024-02-29", "2023-02-28", "1999-12-31", "2000-01-01", "0001-12-31");
        my $c = pick("00:00:00", "00:30", "23:59:59.999999", "23:30:00", "24:00:00", "23:59:60",
                     "00:00:00.5", "23:59:59.5", "15:59:00", "08:00:00");
        return $d . $sep . $c . offset();
    }
    return date() . $sep . clock() . offset();
}

my @stricter_common = ("now", "today", "tomorrow", "epoch", "allballs", "+infinity", "infinity ago",
                       "J2451545", "yesterday", "NOW");
my %stricter = (
    date => ["2024-1-1", "20240101", "01/02/2024", "2024-01-01 BC", "10000-01-01", "Jan 8, 2024",
             "2024-01-01 12:00:00", "2024-01-01T12:00:00Z", "24-01-01", "2024.01.08", "1999-Jan-08",
             "0000-01-01", "2024-01-01 junk", "12345-01-01", "-2024-01-01"],
    time => ["1:02:03", "12:30.5", "12:00:00.", "12:00:00Z", "12:00:00+05", "2024-01-01 12:00:00",
             "12:00:00 PM", "040506", "T12:00:00", "12:00:00 +05:30", "12:00:00 UTC", "allballs",
             "12.00.00", "12:0:00"],
    timestamp => ["2024-1-1 12:00:00", "2024-01-01 1:00", "2024-01-01  12:00:00", "2024-01-01 12:00:00.",
                  "2024-01-01 12:00:00+5", "2024-01-01 12:00:00+05:30:30", "2024-01-01 12:00:00 UTC",
                  "2024-01-01 12:00:00  +05", "10000-01-01 00:00:00", "2024-01-01 12:00:00 BC",
                  "Mon Jan 08 12:00:00 2024", "2024-01-01T 12:00:00", "20240101T120000",
                  "2024-01-01\t12:00:00", "2024-01-01 12:00:00 America/New_York", "2024-01-01 12:00:00 EST",
                  "0000-12-31 12:00:00", "2024-01-01 12:00:00-1"],
);

sub special {
    my @pool = (@stricter_common, @{ $stricter{$family} });
    push @pool, ("infinity", "-infinity", "Infinity", "-INFINITY", " infinity ") if $family ne "time";
    return pick(@pool);
}

sub valid {
    return date() if $family eq "date";
    return clock() if $family eq "time";
    return timestamp();
}

my @insert = split //, "0123456789-:.+ TtZz/,aAePM";
push @insert, "\t", "\n", "\r", "\f", "\x0b";
my @space = (" ", "  ", "\t", "\n", "\r", "\f", "\x0b");

sub mutate {
    my ($v) = @_;
    my $len = length($v);
    return pick(@insert) if $len == 0;
    my $k = int(rand(9));
    my $p = int(rand($len + 1));
    if ($k == 0) {
        return substr($v, 0, int(rand($len)));
    } elsif ($k == 1) {
        return substr($v, 0, $p) . pick(@insert) . substr($v, $p);
    } elsif ($k == 2) {
        $p = int(rand($len));
        return substr($v, 0, $p) . substr($v, $p + 1);
    } elsif ($k == 3) {
        $p = int(rand($len));
        return substr($v, 0, $p) . pick(@insert) . substr($v, $p + 1);
    } elsif ($k == 4) {
        return $v if $len < 2;
        $p = int(rand($len - 1));
        return substr($v, 0, $p) . substr($v, $p + 1, 1) . substr($v, $p, 1) . substr($v, $p + 2);
    } elsif ($k == 5) {    # a two-digit field out of its range
        my @fields;
        while ($v =~ /(?<![0-9])[0-9]{2}(?![0-9])/g) { push @fields, $-[0]; }
        return $v unless @fields;
        my $at = pick(@fields);
        substr($v, $at, 2) = sprintf("%02d", pick(0, 13, 24, 25, 29, 30, 31, 32, 59, 60, 61, 99, int(rand(100))));
        return $v;
    } elsif ($k == 6) {    # a separator swapped
        my %swap = ("-" => ["/", ".", " ", ":"], ":" => [".", "-", " ", ""], " " => ["_", "  ", "\t", ""],
                    "." => [",", ":", ""], "T" => ["x", " T", "T "], "+" => ["-", " ", "++"]);
        my @at = grep { exists $swap{ substr($v, $_, 1) } } 0 .. $len - 1;
        return $v unless @at;
        my $at = pick(@at);
        substr($v, $at, 1) = pick(@{ $swap{ substr($v, $at, 1) } });
        return $v;
    } elsif ($k == 7) {    # the year made 0000, five digits, or signed
        return pick("0000", "10000", "+2024", "-2024", "999", "00001") . substr($v, 4) if $v =~ /^[0-9]{4}-/;
        return pick(@space) . $v;
    }
    return pick(@space) . $v . pick("", @space);
}

for (1 .. $count) {
    my $r = rand();
    my $v;
    if ($r < 0.03) {
        $v = special();
    } elsif ($r < 0.52) {
        $v = valid();
        $v = pick(@space) . $v . pick("", @space) if rand() < 0.04;
    } else {
        $v = mutate(valid());
        $v = mutate($v) if rand() < 0.3;
    }
    $v = "x" if $v eq "";
    $v =~ s/\\/\\\\/g;
    $v =~ s/\t/\\t/g;
    $v =~ s/\n/\\n/g;
    $v =~ s/\r/\\r/g;
    print "$v\n";
}
