#!/usr/bin/perl
# http_flood.pl HOST PORT IDLE SECONDS - a hostile client for the HTTP endpoint's robustness test.
#
# First sends 200 garbage requests (binary, an overlong request line, a bad method and version,
# too many headers), each on its own connection, and counts those answered or closed within
# 15 s (the server's idle timeout is 10 s: none may hang longer). Then opens IDLE
# connections and keeps them open (a third send a request line byte by byte, one every two
# seconds: slowloris), prints "open N", and for SECONDS goes on trying garbage connections
# (about 20 a second; most find no free slot, which is the point). Ends with
# "done burst_answered=N attempts=N connected=N". It only talks to the address it is given and
# stops by itself.
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($host, $port, $idle, $seconds) = @ARGV;
$| = 1;
$SIG{PIPE} = "IGNORE"; # a server that closes on us is an answer, not a reason to stop
my @garbage = (
    join('', map { chr(int(rand(256))) } 1 .. 512) . "\r\n\r\n",
    "GET /" . ("A" x 20000) . " HTTP/1.1\r\nHost: x\r\n\r\n",
    "BREW /pot HTTP/9.9\r\n\r\n",
    "GET /metrics HTTP/1.1\r\n" . ("X-Junk: " . ("y" x 100) . "\r\n") x 400 . "\r\n",
    "\0\0\0\0\r\n\r\n",
);
my $answered = 0;
my @burst;
for my $i (1 .. 200) {
    my $g = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp',
                                  Timeout => 2) or next;
    syswrite($g, $garbage[$i % @garbage]);
    $g->blocking(0);
    push @burst, $g;
}
# Each must get an answer or be closed, at the latest by the server's idle timeout (10 s).
my $until = time + 15;
while (@burst && time < $until) {
    my @left;
    for my $g (@burst) {
        my $buf;
        my $n = sysread($g, $buf, 4096);
        if (defined $n) { $answered++; close $g; } else { push @left, $g; }
    }
    @burst = @left;
    sleep 0.05;
}
close $_ for @burst;
my @idle;
for (1 .. $idle) {
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp',
                                  Blocking => 0) or next;
    push @idle, $s;
}
print "open " . scalar(@idle) . "\n";

my ($attempts, $sent, $drip) = (0, 0, 0);
my $t0 = time;
my $next_drip = $t0;
while (time - $t0 < $seconds) {
    $attempts++;
    my $g = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp',
                                  Timeout => 0.05);
    if ($g) {
        $g->blocking(0);
        syswrite($g, $garbage[$sent % @garbage]);
        my $buf;
        for (1 .. 5) { last if sysread($g, $buf, 4096); sleep 0.01; }
        close $g;
        $sent++;
    }
    if (time >= $next_drip) { # slowloris: one more byte on a third of the idle connections
        for my $i (0 .. $#idle) {
            next if $i % 3;
            syswrite($idle[$i], substr("GET /metrics HTTP/1.1\r\nHost: x\r\n", $drip % 33, 1));
        }
        $drip++;
        $next_drip += 2;
    }
    sleep 0.02;
}
close $_ for @idle;
print "done burst_answered=$answered attempts=$attempts connected=$sent\n";
