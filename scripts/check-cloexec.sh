#!/bin/sh
# Every descriptor the suite opens is close-on-exec (common/fileio.h): the
# tools start servers that outlive them, some from worker threads while
# other threads open files. This check, run by make check, finds a call in
# common/ or utils/ that forgets:
#
#   fopen() without "e" in its mode    open()/openat() without O_CLOEXEC
#   socket()/accept4() without SOCK_CLOEXEC    pipe() instead of pipe2()
#   dup() instead of fcntl(F_DUPFD_CLOEXEC)    mkstemp() instead of mkostemp()
#   gzopen() instead of gzdopen() on an O_CLOEXEC descriptor
#   inotify_init1()/epoll_create1() without their CLOEXEC flag
#
# dup2() is allowed: it is how a child sets up its stdin, stdout and stderr
# before exec, and those must stay open. A line may end in the comment
# "cloexec: <why>" to be excused.
#
# Usage: scripts/check-cloexec.sh [FILE...]   (default: common/*.c utils/*/*.c)
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- common/*.c utils/*/*.c
exec perl -e '
my $bad = 0;
for my $file (@ARGV) {
	open(my $fh, "<", $file) or die "check-cloexec: $file: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	# Comments out, keeping line numbers; string literals stay (modes).
	$text =~ s{/\*.*?\*/}{ my $c = $&; $c =~ tr/\n//cd; $c }gse;
	while ($text =~ /\b(fopen|open|openat|socket|accept4?|pipe|dup|mkstemp|gzopen|inotify_init1?|epoll_create1?)\s*\(/g) {
		my ($call, $at) = ($1, $-[0]);
		my $line = 1 + (substr($text, 0, $at) =~ tr/\n//);
		# The arguments, up to the closing parenthesis.
		my ($depth, $i, $args) = (1, pos($text), "");
		while ($depth > 0 && $i < length $text) {
			my $ch = substr($text, $i++, 1);
			$depth++ if $ch eq "(";
			$depth-- if $ch eq ")";
			$args .= $ch if $depth > 0;
		}
		my $rest = substr($text, $i, 200);
		my ($eol) = $rest =~ /^([^\n]*)/;
		next if $eol =~ m{//\s*cloexec:};
		# A declaration or a definition is no call.
		next if substr($text, 0, $at) =~ /(\bint|\*)\s*$/;
		my $why;
		if ($call eq "fopen") {
			my ($mode) = $args =~ /,\s*"([^"]*)"\s*$/;
			$why = "fopen() mode without \"e\"" if !defined $mode || $mode !~ /e/;
		} elsif ($call =~ /^open/) {
			$why = "$call() without O_CLOEXEC" if $args !~ /O_CLOEXEC/;
		} elsif ($call eq "socket" || $call eq "accept4") {
			$why = "$call() without SOCK_CLOEXEC" if $args !~ /SOCK_CLOEXEC/;
		} elsif ($call =~ /^(inotify_init1|epoll_create1)$/) {
			$why = "$call() without its CLOEXEC flag" if $args !~ /CLOEXEC/;
		} else {
			my %instead = (pipe => "pipe2(..., O_CLOEXEC)", dup => "fcntl(fd, F_DUPFD_CLOEXEC, 0)",
				mkstemp => "mkostemp(..., O_CLOEXEC)", gzopen => "gzdopen() on an O_CLOEXEC descriptor",
				accept => "accept4(..., SOCK_CLOEXEC)", inotify_init => "inotify_init1(IN_CLOEXEC)",
				epoll_create => "epoll_create1(EPOLL_CLOEXEC)");
			$why = "$call(): use $instead{$call}";
		}
		if (defined $why) {
			print STDERR "$file:$line: $why\n";
			$bad++;
		}
	}
}
exit($bad ? 1 : 0);
' "$@"
