/*
 * options.c - the sanitizers' defaults, linked into every program of a
 * SANITIZE=1 build only (the Makefile puts this object in libdbops.a and
 * makes the linker pull it in): every report of AddressSanitizer,
 * LeakSanitizer and UndefinedBehaviorSanitizer goes to a file of
 * DBOPS_SAN_REPORTS (the build's sanitizer-reports/, mode 1777), named
 * report.<program>.<pid>, whoever runs the program and wherever: a tool the
 * tests run, a service, a child process, or pitr-replay-fetch-wal as the
 * restore_command of a PostgreSQL server running as postgres. A report on
 * stderr would be lost where no test reads it; tests/run.sh fails the run
 * naming each file it finds there.
 *
 * ASAN_OPTIONS and UBSAN_OPTIONS still override these (log_path=stderr in
 * both to see a report on the terminal).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef DBOPS_SAN_REPORTS
#error "DBOPS_SAN_REPORTS (the report directory) is set by the Makefile"
#endif

#define DBOPS_SAN_LOG "log_path=" DBOPS_SAN_REPORTS "/report:log_exe_name=1"

/* The names the runtimes look up, outside the dbops_ prefix by necessity. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

/*
 * Leaks are checked at exit (LeakSanitizer needs ptrace, which some
 * containers deny: tests/run.sh then turns detect_leaks off through
 * ASAN_OPTIONS). An allocation too large returns NULL as it does without
 * ASan, for xalloc's own check to report it.
 */
const char *__asan_default_options(void)
{
	return DBOPS_SAN_LOG ":detect_leaks=1:allocator_may_return_null=1"
			     ":abort_on_error=0";
}

const char *__ubsan_default_options(void)
{
	return DBOPS_SAN_LOG ":print_stacktrace=1:halt_on_error=1";
}

/*
 * GCC links UBSan as its own library, libubsan.so, beside libasan.so; run
 * with ASan, it reads its flags but never opens log_path, and writes its
 * reports on stderr. Its report path is set here, through its own copy of
 * __sanitizer_set_report_path; its log_exe_name (the defaults above)
 * makes it DIR/report.<program>.<pid>, as ASan's. (Clang's runtime is one
 * library, which honours log_path: no libubsan.so is loaded then.)
 */
__attribute__((constructor)) static void dbops_san_ubsan_path(void)
{
	const char *env = getenv("UBSAN_OPTIONS");
	void *lib;
	void (*set_path)(const char *);

	if (env != NULL && strstr(env, "log_path=") != NULL)
		return;
	lib = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (lib == NULL)
		return;
	*(void **)&set_path = dlsym(lib, "__sanitizer_set_report_path");
	if (set_path != NULL)
		set_path(DBOPS_SAN_REPORTS "/report");
	dlclose(lib);
}
