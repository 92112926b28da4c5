#!/usr/bin/perl
# gen_values.pl - values for the text family's differential test (t_types_text.sh).
#
#   gen_values.pl KIND COUNT SEED [LIMIT]
#
# KIND is "text" (strings; LIMIT is the varchar/char length they cluster around), "json" or
# "enum" (the labels of the test's enum type, exact and mutated). Prints COUNT lines
# "VALUE<TAB>DEPTH": VALUE in COPY text form (backslash, tab, newline and CR escaped, nothing
# else), DEPTH the nesting of brackets outside JSON strings, counted here on its own so the test
# can tell the documented "nested deeper than 1000" class from a real mismatch. Values are valid
# UTF-8 without NUL (the row validator's promise to the type checkers); seeded, so a failure
# can be replayed.
use strict;
use warnings;
no warnings qw(nonchar qw); # U+10FFFF is meant; "1,5" is a bad number on purpose

my ($kind, $count, $seed, $limit) = @ARGV;
die "usage: gen_values.pl text|json|enum COUNT SEED [LIMIT]\n" unless $kind && $count && defined $seed;
$limit //= 5;
srand($seed);
binmode STDOUT, ':utf8';

sub pick { return $_[int rand @_] }

# Characters that matter: multi-byte of every width, spaces that are not ' ', controls, quotes,
# the COPY escapes, combining marks, the last code point.
my @plain = ('a' .. 'z', 'A' .. 'Z', '0' .. '9');
my @special = (' ', "\t", "\n", "\r", '\\', '"', "'", ',', ';', 'N', '.', "\x{e9}", "\x{df}",
    "\x{3a9}", "\x{4e2d}", "\x{6587}", "\x{1F600}", "\x{1F4A9}", "\x{301}", "\x{a0}", "\x{3000}",
    "\x{2028}", "\x{7f}", "\x{1}", "\x{1f}", "\x{feff}", "\x{10FFFF}", "\x{FFFD}", "\x{8}");

sub some_chars {
    my ($n) = @_;
    my $s = '';
    $s .= rand() < 0.7 ? pick(@plain) : pick(@special) for 1 .. $n;
    return $s;
}

# A string around the limit, with trailing (sometimes leading) spaces and their look-alikes.
sub text_value {
    my $r = rand;
    my $n = $r < 0.55 ? $limit + int(rand 7) - 3
          : $r < 0.75 ? int(rand 4)
          : $r < 0.93 ? int(rand(3 * $limit + 10))
          : $r < 0.99 ? 50 + int(rand 300)
          :             1000 + int(rand 3000);
    $n = 0 if $n < 0;
    my $s = some_chars($n);
    $s = (' ' x (1 + int rand 3)) . $s if rand() < 0.05;
    $s .= ' ' x (1 + int rand 6) if rand() < 0.35;
    $s .= pick("\t", "\x{a0}", "\x{3000}", "x", "\x{e9}") if rand() < 0.05;
    $s .= ' ' x (1 + int rand 3) if rand() < 0.05;
    $s = ' ' x int(rand($limit + 4)) if rand() < 0.02;
    return $s;
}

# ---- json ------------------------------------------------------------------------------

sub ws {
    my $r = rand;
    return '' if $r < 0.7;
    return pick(' ', '  ', "\n", "\t", "\r\n", " \t ", "\r") if $r < 0.998;
    return pick("\f", "\x{b}", "\x{a0}", "\x{2028}", "\x{3000}", "\x{feff}");
}

sub digits {
    my ($n, $first) = @_;
    my $s = $first // '';
    $s .= int rand 10 for 1 .. $n;
    return $s;
}

my @edge_numbers = qw(0 -0 1 -1 0.0 -0.0 1E5 1e+5 1e-5 1e0 0e0 -0e-0
    123456789012345678901234567890123456789 -9223372036854775809 9223372036854775808
    1.7976931348623157e308 5e-324 2.2250738585072014E-308 1e400 -1e-400
    1e131071 1e131072 9.99e131071 0.1e131072 10e131071 10e131070 1e-16383 1e-16384 0e-16383
    0e-16384 0.5e-16383 0.00e-16381 0.00e-16382 0.0e16383 1e1073741822 0e1073741822
    0e1073741823 1e1073741823 0e-1073741822 -0e-1073741823 1e+0000000000000000000000001
    1e99999999999999999999 0.0000001e-16376 1.0e-16382 1.00e-16382);
my @bad_numbers = qw(01 00 -01 1. .5 +1 1e 1e+ 1E- -. - 0x10 1_000 Infinity -Infinity NaN
    1.5.3 1e5.5 1ee5 --1 0.e1 1.2e 1,5);

sub number {
    my $r = rand;
    return pick(@edge_numbers) if $r < 0.04;
    return pick(@bad_numbers) if $r < 0.05;
    if ($r < 0.07) { # next to numeric's limits: first digit at 10^131071, 16383 places
        my $k = 1 + int rand 6;
        return digits($k - 1, 1 + int rand 9) . 'e' . (131071 - $k + 1 + int(rand 3) - 1)
            if rand() < 0.5;
        my $f = int rand 6;
        return '0.' . digits($f) . 'e-' . (16383 - $f + int(rand 3) - 1);
    }
    my $s = rand() < 0.2 ? '-' : '';
    $s .= rand() < 0.3 ? '0' : digits(int rand(rand() < 0.9 ? 8 : 40), 1 + int rand 9);
    $s .= '.' . digits(1 + int rand(rand() < 0.9 ? 6 : 30)) if rand() < 0.4;
    if (rand() < 0.25) {
        $s .= pick('e', 'E') . pick('', '', '+', '-');
        $s .= rand() < 0.95 ? int(rand 400) : pick(0, 16383, 16384, 131071, 131072, 2147483648);
    }
    return $s;
}

my @escapes = ('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u00e9', '\\u00E9',
    '\\u0041', '\\u4e2d', '\\uFFFF', '\\uFEFF', '\\uD83D\\uDE00', '\\udbff\\udfff', '\\u007f',
    '\\u0001');
my @bad_jsonb_escapes = ('\\u0000', '\\uD800', '\\uDC00', '\\udfff', '\\uD800\\uD800',
    '\\uDE00\\uD83D', '\\ud800\\u0041', '\\ud83d\\n', '\\ud83dx');
my @bad_escapes = ('\\x', "\\'", '\\U0041', '\\u12', '\\u12G4', '\\ ', '\\a', '\\0', "\t",
    "\n", "\x{1}", "\x{1f}", '\\u-123');

sub json_string {
    my $n = rand() < 0.9 ? int rand 8 : int rand 40;
    my $s = '"';
    for (1 .. $n) {
        my $r = rand;
        $s .= $r < 0.62 ? pick(@plain)
            : $r < 0.72 ? pick(' ', "\x{e9}", "\x{4e2d}", "\x{1F600}", "\x{a0}", "\x{7f}",
                               "\x{2028}", "'", "\x{10FFFF}", "\x{301}")
            : $r < 0.95 ? pick(@escapes)
            : $r < 0.99 ? (rand() < 0.5 ? sprintf('\\u%04x', int rand 65536)
                                        : pick(@bad_jsonb_escapes))
            :             pick(@bad_escapes);
    }
    return $s . '"';
}

sub json_value {
    my ($depth, $max) = @_;
    my $r = rand;
    if ($depth < $max && $r < 0.35) {
        my $n = int rand 5;
        if (rand() < 0.5) {
            return '[' . ws() . ']' if $n == 0;
            return '[' . join(',', map { ws() . json_value($depth + 1, $max) . ws() } 1 .. $n) . ']';
        }
        return '{' . ws() . '}' if $n == 0;
        return '{' . join(',', map {
            ws() . json_string() . ws() . ':' . ws() . json_value($depth + 1, $max) . ws()
        } 1 .. $n) . '}';
    }
    return number() if $r < 0.6;
    return json_string() if $r < 0.85;
    return pick('true', 'false', 'null', 'true', 'false', 'null', 'True', 'nul', 'NULL',
        'falsey', 'tru');
}

# Nesting near the 1000-level limit, and past it up to where PostgreSQL's stack gives out.
sub json_deep {
    my $r = rand;
    my $d = $r < 0.6 ? 990 + int rand 21 : $r < 0.85 ? 1 + int rand 999 : 1011 + int rand 15000;
    my ($open, $close) = ('', '');
    for my $i (1 .. $d) {
        if (rand() < 0.7) {
            $open .= '[';
            $close = ']' . $close;
        } else {
            $open .= '{"k":';
            $close = '}' . $close;
        }
    }
    return $open . json_value(0, 1) . $close;
}

my @inserts = ('{', '}', '[', ']', ',', ':', '"', '\\', '-', '+', '.', 'e', 'E', '0', '1', '9',
    ' ', "\t", "\n", 't', 'f', 'n', 'u', 'x', "\x{e9}", "\x{4e2d}", "\x{1F600}", "\x{a0}", "\x{1}");
my @trailers = (',', 'x', ']', '}', ' 1', '"a"', "\n", ' ', 'null', "\x{a0}", '[', '1', '.5', 'e1');

# Damage a document: cut, drop, insert, replace or swap characters, add garbage.
sub mutate {
    my ($s) = @_;
    my $len = length $s;
    my $p = int rand($len + 1);
    my $r = rand;
    if ($r < 0.2) {
        return substr($s, 0, $p);
    } elsif ($r < 0.35) {
        substr($s, $p, 1) = '' if $p < $len;
    } elsif ($r < 0.55) {
        substr($s, $p, 0) = pick(@inserts);
    } elsif ($r < 0.7) {
        substr($s, $p, 1) = pick(@inserts) if $p < $len;
    } elsif ($r < 0.8) {
        if ($p + 1 < $len) {
            my $two = substr($s, $p, 2);
            substr($s, $p, 2) = reverse $two;
        }
    } elsif ($r < 0.9) {
        $s .= pick(@trailers);
    } elsif ($r < 0.95) {
        $s = pick(@trailers) . $s;
    } else {
        $s .= $s;
    }
    return $s;
}

sub json_doc {
    my $doc = rand() < 0.01 ? json_deep() : json_value(0, int rand 6);
    $doc = ws() . $doc . ws() if rand() < 0.2;
    if (rand() < 0.55) {
        $doc = mutate($doc);
        $doc = mutate($doc) if rand() < 0.25;
    }
    return $doc;
}

# ---- enum --------------------------------------------------------------------------------

# The labels of the test's enum type, in sort order (t_types_text.sh creates it).
my @labels = ('sad', 'ok', 'happy', 'Happy Face', "na\x{ef}ve", "\x{4e2d}\x{6587}", 'a,b',
    "it's", 'back\\slash', ' lead', 'trail ', 'x', "\x{1F600}");

sub enum_value {
    my $s = pick(@labels);
    return $s if rand() < 0.4;
    my $r = rand;
    return uc $s if $r < 0.1;
    return ucfirst $s if $r < 0.15;
    return " $s" if $r < 0.2;
    return "$s " if $r < 0.25;
    return $s . pick(@labels) if $r < 0.3;
    return substr($s, 0, length($s) - 1) if $r < 0.35;
    return "na\x{69}\x{308}ve" if $r < 0.37; # i + combining diaeresis: not the label
    return "Happy\x{a0}Face" if $r < 0.39;
    return '' if $r < 0.41;
    return some_chars(int rand 8) if $r < 0.6;
    my $p = int rand(length($s) + 1);
    substr($s, $p, 0) = pick(@inserts);
    return $s;
}

# ---- output ------------------------------------------------------------------------------

sub depth_of {
    my ($s) = @_;
    my ($d, $max) = (0, 0);
    while ($s =~ /"(?:[^"\\]++|\\.)*+"?|([\[{])|([\]}])/gs) {
        if (defined $1) {
            $max = $d if ++$d > $max;
        } elsif (defined $2) {
            $d--;
        }
    }
    return $max;
}

my $gen = $kind eq 'text' ? \&text_value : $kind eq 'json' ? \&json_doc
        : $kind eq 'enum' ? \&enum_value : die "unknown kind '$kind'\n";
for (1 .. $count) {
    my $v = $gen->();
    my $depth = $kind eq 'json' && $v =~ /[[{]/ ? depth_of($v) : 0;
    $v =~ s/\\/\\\\/g;
    $v =~ s/\t/\\t/g;
    $v =~ s/\n/\\n/g;
    $v =~ s/\r/\\r/g;
    print $v, "\t", $depth, "\n";
}
