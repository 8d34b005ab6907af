/*
 * test_pitr_replay_manifest.c - unit tests for the file list of a
 * backup_manifest (utils/pitr-replay/manifest.c, pitr_manifest_files()):
 * paths decoded from their JSON escapes and from "Encoded-Path", checksums
 * of each kind and their lengths, the manifest's own SHA-256 checksum, and
 * the bad manifests refused by their exact reason.
 */
#include "testutil.h"

#include <openssl/sha.h>

#include "../../utils/pitr-replay/manifest.h"

/*
 * A manifest whose "Files" are FILES (the text between the brackets) and
 * whose last line carries the right checksum, or WRONG's when WRONG.
 */
static char *manifest(const char *files, bool wrong)
{
	static const char head[] =
		"{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n"
		"\"Files\": [\n";
	static const char tail[] =
		"\n],\n\"WAL-Ranges\": [\n"
		"{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }\n"
		"],\n";
	size_t len = strlen(head) + strlen(files) + strlen(tail);
	char *text = malloc(len + 100);
	unsigned char sum[32];

	assert_non_null(text);
	snprintf(text, len + 1, "%s%s%s", head, files, tail);
	SHA256((const unsigned char *)text, len, sum);
	if (wrong)
		sum[0] ^= 1;
	strcat(text, "\"Manifest-Checksum\": \"");
	for (int i = 0; i < 32; i++)
		sprintf(text + strlen(text), "%02x", sum[i]);
	strcat(text, "\"}\n");
	return text;
}

static int parse(const char *files, bool wrong, struct manifest_files *f,
		 struct dbops_err *err)
{
	char *text = manifest(files, wrong);
	int rc = pitr_manifest_files(text, strlen(text), f, err);

	free(text);
	return rc;
}

static void refused(const char *files, const char *why)
{
	struct manifest_files f;
	struct dbops_err err = { "" };

	assert_int_equal(parse(files, false, &f, &err), -1);
	assert_string_equal(err.msg, why);
	assert_null(f.v);
}

static void test_manifest_files_decoded_and_sorted(void **state)
{
	struct manifest_files f;
	struct dbops_err err = { "" };
	const struct manifest_file *m;

	(void)state;
	assert_int_equal(
		parse("{ \"Path\": \"global/pg_control\", \"Size\": 8192, \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"43872087\" },\n"
		      "{ \"Path\": \"caf\\u00e9 \\\"q\\\" \\\\ \\ud83d\\ude00\", \"Size\": 3, \"Checksum-Algorithm\": \"SHA256\", \"Checksum\": \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\" },\n"
		      "{ \"Encoded-Path\": \"6261736509ff\", \"Size\": 0 },\n"
		      "{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Checksum-Algorithm\": \"NONE\" }",
		      false, &f, &err),
		0);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.v[0].path, "PG_VERSION");
	assert_string_equal(f.v[1].path, "base\t\xff");
	assert_string_equal(f.v[2].path,
			    "caf\xc3\xa9 \"q\" \\ \xf0\x9f\x98\x80");
	assert_string_equal(f.v[3].path, "global/pg_control");
	m = pitr_manifest_file_find(&f, "global/pg_control");
	assert_non_null(m);
	assert_int_equal(m->kind, PITR_CHECKSUM_CRC32C);
	assert_int_equal(m->checksum_len, 4);
	assert_memory_equal(m->checksum, "\x43\x87\x20\x87", 4);
	assert_int_equal(m->size, 8192);
	m = pitr_manifest_file_find(&f, f.v[2].path);
	assert_int_equal(m->kind, PITR_CHECKSUM_SHA256);
	assert_int_equal(m->checksum_len, 32);
	assert_int_equal(m->checksum[0], 0xba);
	assert_int_equal(f.v[0].kind, PITR_CHECKSUM_NONE);
	assert_int_equal(f.v[1].kind, PITR_CHECKSUM_NONE);
	assert_null(pitr_manifest_file_find(&f, "global"));
	pitr_manifest_files_free(&f);
	assert_string_equal(pitr_checksum_name(PITR_CHECKSUM_SHA512), "SHA512");
}

static void test_manifest_files_own_checksum(void **state)
{
	struct manifest_files f;
	struct dbops_err err = { "" };
	const char *one = "{ \"Path\": \"PG_VERSION\", \"Size\": 3 }";

	(void)state;
	assert_int_equal(parse(one, true, &f, &err), -1);
	assert_string_equal(
		err.msg, "the manifest's checksum does not match its contents");
	assert_int_equal(pitr_manifest_files("{ \"Files\": [] }", 15, &f, &err),
			 -1);
	assert_string_equal(err.msg, "no \"Manifest-Checksum\"");
	assert_int_equal(
		pitr_manifest_files("{ \"Manifest-Checksum\": \"00\" }", 29, &f,
				    &err),
		-1);
	assert_string_equal(
		err.msg,
		"the manifest's checksum cannot be checked: fewer than two lines");
}

static void test_manifest_files_refused(void **state)
{
	(void)state;
	refused("{ \"Path\": \"a\", \"Size\": 1, \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"12\" }",
		"line 3: file \"a\": \"Checksum\": expected 8 hex digits for CRC32C, found \"12\"");
	refused("{ \"Path\": \"a\", \"Size\": 1, \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"1234567g\" }",
		"line 3: file \"a\": \"Checksum\": expected 8 hex digits for CRC32C, found \"1234567g\"");
	refused("{ \"Path\": \"a\", \"Size\": 1, \"Checksum-Algorithm\": \"MD5\", \"Checksum\": \"12\" }",
		"line 3: \"Checksum-Algorithm\": unknown algorithm \"MD5\"");
	refused("{ \"Path\": \"a\", \"Size\": 1, \"Checksum-Algorithm\": \"SHA256\" }",
		"line 3: file \"a\": \"Checksum-Algorithm\" without \"Checksum\"");
	refused("{ \"Path\": \"a\", \"Size\": 1 },\n{ \"Path\": \"a\", \"Size\": 2 }",
		"the file \"a\" is listed twice");
	/* A second array would be appended to the first past its room. */
	refused("{ \"Path\": \"a\", \"Size\": 1 }\n],\n\"Files\": [\n{ \"Path\": \"b\", \"Size\": 1 }",
		"line 5: a second \"Files\" key");
	refused("{ \"Path\": \"a\\u0000b\", \"Size\": 1 }",
		"line 3: \"Path\": a bad escape or a NUL byte");
	refused("{ \"Path\": \"\\ud800x\", \"Size\": 1 }",
		"line 3: \"Path\": a bad escape or a NUL byte");
	refused("{ \"Encoded-Path\": \"610062\", \"Size\": 1 }",
		"line 3: \"Encoded-Path\": expected hex digits of a name");
	refused("{ \"Path\": \"a\", \"Encoded-Path\": \"61\", \"Size\": 1 }",
		"line 3: a file with both \"Path\" and \"Encoded-Path\"");
	refused("{ \"Size\": 1 }", "line 3: a file without \"Path\"");
	refused("{ \"Path\": \"a\" }", "line 3: file \"a\": no \"Size\"");
	refused("{ \"Path\": \"a\", \"Size\": -1 }",
		"line 3: \"Size\": expected an integer from 0 to 9223372036854775807");
	refused("{ \"Path\": 7, \"Size\": 1 }",
		"line 3: \"Path\": expected a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_files_decoded_and_sorted),
		cmocka_unit_test(test_manifest_files_own_checksum),
		cmocka_unit_test(test_manifest_files_refused),
	};

	return cmocka_run_group_tests_name("pitr-replay manifest files", tests,
					   NULL, NULL);
}
