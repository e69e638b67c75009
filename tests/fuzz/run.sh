#!/bin/sh
# `make fuzz`: builds the libFuzzer targets with clang (ASan + UBSan) apart
# from the configured tree, then runs each for FUZZ_SECONDS on a copy of its
# seed corpus, so nothing new is ever written into the source tree.  Exits
# non-zero when a target crashes, leaks, times out or breaks a property;
# the input is kept in $top_builddir/tests/fuzz-artifacts for a regression.
#
# Usage: run.sh [TARGET...]   (default: every target)
# Environment: top_srcdir, top_builddir (set by make), FUZZ_SECONDS (60),
# FUZZ_SEED (libFuzzer's -seed; unset: a random seed each run), FUZZ_CC
# (clang), JOBS (2).
set -eu

top_srcdir=${top_srcdir:?run through make fuzz}
top_builddir=${top_builddir:?run through make fuzz}
seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-}
jobs=${JOBS:-2}
fuzz_cc=${FUZZ_CC:-clang}
here=$top_srcdir/tests/fuzz
out=$top_builddir/tests/fuzz-build
artifacts=$top_builddir/tests/fuzz-artifacts

# target:max_len.  Lengths cover the seeds with room to grow, and keep
# executions fast enough to explore in a minute.
all_targets="config:16384 ini:4096 grant:8192 journal:16384 scope:2048 escape:4096
approvald:8192 approval:8192 webauthn:4096 pem:4096"

pkgs="libcrypto libsodium json-c libcurl liboath yajl libmicrohttpd sqlite3 libpq libfido2 libcbor"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer $sanitize -fsanitize=fuzzer-no-link
	-Wall -Wextra -Wno-unused-parameter
	-I$top_builddir -I$top_srcdir/common -I$top_srcdir/approvald
	$(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lpthread"

# archive NAME SOURCE...: compiles the sources (two at a time) into $out/NAME.a.
archive() {
	lib=$1
	shift
	mkdir -p "$out/$lib"
	# shellcheck disable=SC2086
	printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh -c \
	    'exec "$0" $1 -c "{}" -o "$2/$(basename "{}" .c).o"' \
	    "$fuzz_cc" "$cflags" "$out/$lib" || return 1
	ar rcs "$out/$lib.a" "$out/$lib"/*.o
}

build() {
	echo "=== fuzz: building with $fuzz_cc"
	rm -rf "$out"
	# shellcheck disable=SC2046
	# common/ with crypto.h on OpenSSL (crypto.c): crypto_sodium.c defines the
	# same functions for the sudo plugin's core alone.
	archive common "$here/fuzz_util.c" "$here/grammar_diff.c" \
	    $(ls "$top_srcdir"/common/*.c | grep -v '/crypto_sodium\.c$') || return 1
	# shellcheck disable=SC2046
	archive approvald $(ls "$top_srcdir"/approvald/*.c | grep -v '/main\.c$') ||
	    return 1
	for t in $all_targets; do
		name=${t%%:*}
		# shellcheck disable=SC2086
		"$fuzz_cc" $cflags -fsanitize=fuzzer "$here/fuzz_$name.c" \
		    "$out/approvald.a" "$out/common.a" $libs -o "$out/fuzz_$name" || return 1
	done
}

# run NAME MAX_LEN: one target on a scratch copy of its corpus.
run() {
	name=$1
	max_len=$2
	work=$(mktemp -d "${TMPDIR:-/tmp}/bg-fuzz-$name.XXXXXX")
	mkdir "$work/corpus" "$work/tmp"
	cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null || true
	if [ -d "$here/regressions/$name" ]; then
		cp "$here/regressions/$name"/* "$work/corpus/"
	fi
	mkdir -p "$artifacts"
	# TMPDIR: the targets' scratch directories live and die with $work.
	if TMPDIR=$work/tmp ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 \
	    "$out/fuzz_$name" -max_total_time="$seconds" -max_len="$max_len" \
	    ${seed:+-seed="$seed"} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$artifacts/$name-" "$work/corpus" >"$work/log" 2>&1; then
		status=ok
	else
		status=FAILED
		tail -60 "$work/log"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	echo "fuzz $name: $status, ${runs:-?} runs, ${rate:-?} exec/s, ${seconds} s${seed:+, seed $seed}"
	rm -rf "$work"
	[ "$status" = ok ]
}

build
targets=${*:-$(for t in $all_targets; do printf '%s ' "${t%%:*}"; done)}
failed=0
for name in $targets; do
	max_len=
	for t in $all_targets; do
		[ "${t%%:*}" = "$name" ] && max_len=${t#*:}
	done
	if [ -z "$max_len" ]; then
		echo "fuzz: unknown target $name" >&2
		exit 2
	fi
	run "$name" "$max_len" || failed=$((failed + 1))
done
echo "fuzz: $failed of $(echo $targets | wc -w) targets failed"
[ "$failed" -eq 0 ]
