#!/usr/bin/perl
# Writes a tiny MaxMind-format country database for the geo tests:
#   perl make_mmdb.pl OUT.mmdb
# Needs Debian's libmaxmind-db-writer-perl (MaxMind::DB::Writer::Tree).
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUT.mmdb\n";

my %types = (
    country  => 'map',
    iso_code => 'utf8_string',
    names    => 'map',
    en       => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'GeoIP2-Country',
    languages                => ['en'],
    description              => { en => 'Rollgate test countries' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    # The test networks are loopback, private and documentation ranges.
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => 1,
);

my @networks = (
    [ '127.0.0.0/25',   'DE', 'Germany' ],
    [ '127.0.0.128/25', 'FR', 'France' ],
    [ '10.0.0.0/8',     'NL', 'Netherlands' ],
    [ '2001:db8::/32',  'JP', 'Japan' ],
    [ '::1/128',        'US', 'United States' ],
);
for my $n (@networks) {
    my ( $net, $code, $name ) = @$n;
    $tree->insert_network( $net, { country => { iso_code => $code, names => { en => $name } } } );
}

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot close $out: $!\n";
