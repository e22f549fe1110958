# real_perl.pl: hashes and sort, for bench/real_bench.sh.
my %h;
for my $i (1 .. 40000) {
    $h{"key$i"} = [ $i, "v" x ( $i % 40 ), { n => $i } ];
}
my @keys = sort { $h{$a}[0] % 1000 <=> $h{$b}[0] % 1000 or $a cmp $b } keys %h;
my $total = 0;
$total += length($_) for @keys[ 0 .. 999 ];
print scalar(@keys), " $total\n";
