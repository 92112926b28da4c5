#!/usr/bin/perl
# gen_values.pl - values for the number family's differential test (t_types_number.sh).
#
#   gen_values.pl FAMILY COUNT SEED > values
#
# FAMILY is int, numeric, float, bool or uuid. Writes COUNT values, one a line in COPY text form
# (backslash, tab, newline and CR escaped), never empty and never NUL: valid values in the
# spellings producers write, the boundaries of every type of the family, then mutations of
# those (truncated, bytes deleted, flipped, inserted or doubled, whitespace and junk around).
# Only valid UTF-8 is written, so every line loads into a text column. Seeded: the same
# arguments give the same values.
use strict;
use utf8;
use warnings;

my ($family, $count, $seed) = @ARGV;
die "usage: gen_values.pl FAMILY COUNT SEED\n" unless defined $seed;
srand($seed);

sub pick { return $_[int(rand(@_))] }
sub digits {
    my ($n) = @_;
    my $s = '';
    $s .= int(rand(10)) for 1 .. $n;
    return $s;
}
sub nz_digits { # n digits, the first not zero
    my ($n) = @_;
    return '' if $n <= 0;
    return (1 + int(rand(9))) . digits($n - 1);
}
sub rcase { # each letter upper or lower at random
    my ($s) = @_;
    return join '', map { rand() < 0.5 ? uc($_) : lc($_) } split //, $s;
}

my @spaces = (' ', '  ', "\t", "\n", "\r", "\x0b", "\x0c", " \t ");
sub spaced { # whitespace around, sometimes
    my ($v) = @_;
    my $r = rand();
    return $v if $r < 0.7;
    return pick(@spaces) . $v if $r < 0.8;
    return $v . pick(@spaces) if $r < 0.9;
    return pick(@spaces) . $v . pick(@spaces);
}

# Characters a mutation inserts: the syntax's own, lookalikes and a few multibyte ones
# (no-break space, fullwidth digit, e acute, minus sign).
my @junk = (split(//, "0123456789+-.eE xXpP_,;()'\"{}abcdefABCDEFnNiIaAtTfFyYoOsS\t\n\\"),
            "\x{a0}", "\x{ff11}", "\x{e9}", "\x{2212}", "\x0b", "\r", "\x0c");

sub mutate {
    my ($v) = @_;
    my $len = length($v);
    my $p = int(rand($len + 1));
    my $r = rand();
    my $from = sub { $_[0] >= $len ? '' : substr($v, $_[0]) };
    if ($r < 0.15) { return substr($v, 0, int(rand($len))) }                 # truncated
    if ($r < 0.30) { return substr($v, 0, $p) . $from->($p + 1) }            # byte deleted
    if ($r < 0.45) { return substr($v, 0, $p) . pick(@junk) . $from->($p + 1) } # replaced
    if ($r < 0.65) { return substr($v, 0, $p) . pick(@junk) . $from->($p) } # inserted
    if ($r < 0.72) { return substr($v, 0, $p) . substr($v, $p, 1) x 2 . $from->($p + 1) }
    if ($r < 0.80) { return pick('-', '+', '--', '+-', ' -', '- ') . $v }    # signs
    if ($r < 0.88) { return $v . pick('e', 'e5', 'E-3', 'e+', '.', '.0', 'x', ' x', '%', '0') }
    if ($r < 0.94) { return rcase($v) }
    return pick(@junk) . $v . pick(@junk);
}

# ---- the families: boundaries, then a generator of valid spellings ----

my (@edges, $valid);

if ($family eq 'int') {
    for my $b ('32767', '32768', '2147483647', '2147483648', '9223372036854775807',
               '9223372036854775808') {
        my $m1 = $b; $m1 =~ s/(\d)$/$1 - 1/e;
        my $p1 = $b; $p1 =~ s/(\d)$/$1 + 1/e;
        push @edges, $b, "-$b", "+$b", $m1, "-$m1", $p1, "-$p1", "000$b", "-000$b";
    }
    push @edges, '0', '-0', '+0', '00000000000000000000000000000001', '1' . '0' x 30,
        '99999999999999999999', '-99999999999999999999', '1.0', '1.', '.5', '1e3', '0x10',
        '1_000', '1,000', '+-1', '--1', '- 1', '+', '-', ' ', '1 2', "\x{ff11}", "1\x{a0}",
        "\x{a0}1", "\x{2212}1", '0b101', '0o17', '1e', 'NaN', 'Infinity', '٣';
    $valid = sub {
        my $n = pick(1, 1, 2, 3, 4, 5, 5, 6, 9, 10, 10, 11, 15, 18, 19, 19, 20);
        my $v = nz_digits($n);
        $v = '0' if $v eq '';
        $v = pick('', '', '', '-', '-', '+') . (rand() < 0.05 ? '0' x int(1 + rand(5)) : '') . $v;
        return spaced($v);
    };
} elsif ($family eq 'numeric') {
    push @edges, '0', '-0', '+0', '0.0', '-0.00', '.0', '0.', '.', '-.', '+.', '5.', '.5', '-.5',
        '99999999.99', '99999999.994', '99999999.995', '-99999999.99', '100000000', '100000000.00',
        '99999', '99999.4', '99999.5', '100000', '-99999', '0.999', '0.9994', '0.9995', '-0.999',
        '1', '1.000', '0.001', '0.0005', '1.005', '1.0050', '1.00500000000000000000',
        '1e-20000', '0e-20000', '0.0e-16383', '0e-16383', '0e-16384', '1e-16383', '1e-16384',
        '1e131071', '9.99e131071', '1e131072', '0e131072', '0e1073741822', '0e1073741823',
        '1e1073741823', '1e-1073741823', '1e99999999999999999999', '1e 5', "1e\t-2", '1e- 5',
        '1 e5', '1e', '1e+', '1e-', '1.5e-3', '15e-1', '1.50e1', '+1.5E+2', '1e0', '1e-0',
        '1.2.3', '1..2', '1,5', '1_000', '0x10', '1/2', '$1', '1%',
        'NaN', 'nan', '-NaN', '+NaN', 'Infinity', '-Infinity', '+Infinity', 'inf', '-inf', '+inf',
        'INFINITY', 'infinit', 'infx', 'nan(1)', ' NaN ', "\tinf\n", 'Inf inity', 'NaNa',
        '1' . '0' x 40, '0.' . '0' x 40 . '1', '9' x 1000, '0.' . '9' x 1000;
    $valid = sub {
        my $r = rand();
        my $ints = pick(0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 12, 20);
        my $fracs = pick(0, 0, 1, 2, 2, 2, 2, 3, 3, 4, 5, 8, 15);
        my $i = nz_digits($ints);
        $i = pick('0', '', '00') if $i eq '' && $fracs;
        $i = '0' if $i eq '' && !$fracs;
        my $v = $i;
        if ($fracs) {
            my $f = digits($fracs);
            $f =~ s/0+$// if rand() < 0.3; # no trailing zeros, sometimes
            $v .= '.' . $f;
        } elsif (rand() < 0.05) {
            $v .= '.';
        }
        $v = '0' if $v eq '.';
        if ($r < 0.15) {
            $v .= pick('e', 'E') . pick('', '', '+', '-') . int(rand(rand() < 0.9 ? 12 : 400));
        }
        $v = pick('', '', '', '-', '-', '+') . $v;
        return spaced($v);
    };
} elsif ($family eq 'float') {
    push @edges, '0', '-0', '+0', '0.0', '-0.0', '1', '-1', '.5', '5.', '.', '-.', '1e', '1e+',
        '1.7976931348623157e308', '-1.7976931348623157e308', '1.7976931348623158e308',
        '1.7976931348623159e308', '1.797693134862315807937e308', '1.797693134862315808e308',
        '1e308', '1e309', '-1e309', '2.2250738585072014e-308', '2.2250738585072011e-308',
        '4.9406564584124654e-324', '5e-324', '4e-324', '3e-324', '2.4703282292062328e-324',
        '2.4703282292062327e-324', '2e-324', '1e-324', '1e-400', '-1e-400', '0e-400',
        '0e99999999999999999999', '1e99999999999999999999', '1e-99999999999999999999',
        '3.4028235e38', '3.40282347e38', '3.4028236e38', '3.40282357e38', '3.5e38', '-3.5e38',
        '1.17549435e-38', '1.1754942e-38', '1.4e-45', '1.401298464324817e-45', '7.1e-46',
        '7e-46', '1e-45', '1e-46', '1e39', '1e38', '1e-39',
        'NaN', 'nan', 'NAN', '-NaN', '+nan', 'nan()', 'nan(123)', 'nan(abc_DEF)', 'nan(1 2)',
        'nan(', 'nan)', 'nan(-)', 'nan(x', 'NaNx', 'Infinity', '-Infinity', '+Infinity',
        'infinity', 'INFINITY', 'inf', '-inf', '+inf', 'INF', 'infinit', 'infinityy', 'infx',
        '+-inf', 'in', 'i', 'n', 'na',
        '0x1p3', '0X1P3', '0x1.8p1', '-0x1p-2', '0x.8', '0x1.', '0x', '0x.', '0xp1', '0x1p',
        '0x1p+', '0x1p-1074', '0x1p-1075', '0x1p-1076', '0x1p1023', '0x1p1024', '0x1.fffffffffffffp1023',
        '0x1p-149', '0x1p-150', '0x1p127', '0x1p128', '0xg', '0x1e3', '0x1.8e1p2',
        '1,5', '1_0', '1e1.5', '1d5', '1f', '1.5f', '1L', "1\x{a0}", "\x{2212}1",
        '1' . '0' x 400, '0.' . '0' x 400 . '1', '1' . '0' x 308, '1' . '0' x 309,
        '0.' . '0' x 322 . '5', '0.' . '0' x 330 . '5', '1.' . '0' x 200 . '1',
        '1.00000000000000011102230246251565404236316680908203125',
        '1.00000000000000011102230246251565404236316680908203124',
        '1.00000000000000011102230246251565404236316680908203126',
        '16777217', '16777216', '16777218', '0.1', '0.2', '0.3', '100000000000000000000000';
    $valid = sub {
        my $r = rand();
        my $v;
        if ($r < 0.3) {
            $v = nz_digits(pick(1, 1, 2, 3, 4, 6, 9)) . '.' . digits(pick(0, 1, 2, 3, 6, 9, 17, 20));
        } elsif ($r < 0.55) {
            $v = int(rand(10)) . '.' . digits(pick(0, 3, 6, 8, 9, 15, 16, 17))
                . pick('e', 'E') . pick('', '+', '-') . int(rand(rand() < 0.7 ? 40 : 330));
        } elsif ($r < 0.75) {
            $v = sprintf(pick('%.17g', '%.9g', '%.6g', '%g', '%.3e', '%.15g'),
                         (rand() - 0.5) * 10 ** (int(rand(80)) - 40));
        } elsif ($r < 0.85) {
            $v = sprintf('%.17g', (rand() < 0.5 ? 1 : -1) * 2 ** (int(rand(2100)) - 1080) * (1 + rand()));
        } elsif ($r < 0.9) {
            $v = sprintf('0x%x.%xp%d', int(rand(16)), int(rand(65536)), int(rand(300)) - 150);
        } elsif ($r < 0.95) {
            $v = rcase(pick('nan', 'inf', 'infinity', '-inf', '-infinity', '+inf', 'nan(' . int(rand(99)) . ')'));
        } else {
            $v = nz_digits(pick(1, 3, 5, 8, 12, 20, 40));
        }
        $v = '-' . $v if rand() < 0.2 && $v !~ /^[-+]/;
        $v =~ s/e\+/e/ if rand() < 0.5;
        return spaced($v);
    };
} elsif ($family eq 'bool') {
    for my $w ('true', 'false', 'yes', 'no', 'on', 'off') {
        push @edges, substr($w, 0, $_), uc(substr($w, 0, $_)), substr($w, 0, $_) . 'x'
            for 1 .. length($w);
        push @edges, $w . $w, " $w ", "${w}e";
    }
    push @edges, '1', '0', '2', '01', '10', '-1', '+1', '1.0', ' 1 ', ' 0', 't f', 'tr ue', 'y es',
        'o', 'of f', 'onn', 'offf', 'truth', 'nope', 'yess', 'ja', 'si', 'oui', 'T', 'F', 'Y', 'N',
        "\tt\n", "t\x{a0}", "\x{a0}t", 'x', '.', '-', 'null';
    $valid = sub {
        my $w = pick('true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 't', 'f');
        my $min = $w =~ /^o/ ? 2 : 1;
        my $v = substr($w, 0, $min + int(rand(length($w) - $min + 1)));
        return spaced(rcase($v));
    };
} elsif ($family eq 'uuid') {
    push @edges, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
        '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11',
        'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11', '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-', '-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        'a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11',
        '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
        ' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ',
        '{ a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11)',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111',
        'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
        '{}', '{', '}', '-', '0', 'urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '0xa0eebc999c0b4ef8bb6d6bb9bd380a11';
    $valid = sub {
        my $h = '';
        $h .= sprintf('%04x', int(rand(65536))) for 1 .. 8;
        $h = uc($h) if rand() < 0.2;
        my $r = rand();
        my $v;
        if ($r < 0.5) {
            $v = join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4),
                substr($h, 20);
        } elsif ($r < 0.65) {
            $v = $h;
        } else { # a hyphen after any group of four, at random
            $v = join '', map { substr($h, 4 * $_, 4) . ($_ < 7 && rand() < 0.4 ? '-' : '') } 0 .. 7;
        }
        $v = "{$v}" if rand() < 0.15;
        return $v;
    };
} else {
    die "gen_values.pl: unknown family '$family'\n";
}

sub emit {
    my ($v) = @_;
    return 0 if $v eq '';
    $v =~ s/\\/\\\\/g;
    $v =~ s/\t/\\t/g;
    $v =~ s/\n/\\n/g;
    $v =~ s/\r/\\r/g;
    print $v, "\n";
    return 1;
}

binmode(STDOUT, ':encoding(UTF-8)');
my $n = 0;
for my $e (@edges) {
    $n += emit($e);
    $n += emit(spaced($e));
    $n += emit(mutate($e));
}
my @recent;
while ($n < $count) {
    my $v = $valid->();
    if (rand() < 0.4) { # mutate a valid value or a boundary
        $v = mutate(rand() < 0.8 ? $v : pick(@edges));
        $v = mutate($v) if rand() < 0.2;
    }
    $n += emit($v);
}
