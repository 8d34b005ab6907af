/*
 * test_es_load_http.c - unit tests for the HTTP answer parser of es-load,
 * the load generator of event-store's tests and benchmark
 * (tests/driver/es_load_http.h).
 */
#include "testutil.h"

#include "../driver/es_load_http.h"

static enum es_http_result parse(const char *text, bool eof,
				 struct es_http_answer *a)
{
	memset(a, 0, sizeof(*a));
	return es_http_parse(text, strlen(text), eof, a);
}

static void test_es_http_not_http_is_bad(void **state)
{
	struct es_http_answer a;

	assert_int_equal(parse("SSH-2.0-OpenSSH\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/2 200 OK\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 20 OK\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 2000 OK\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 099 OK\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
}

static void test_es_http_malformed_headers_are_bad(void **state)
{
	struct es_http_answer a;

	/* A line without a colon, a bad length, two lengths that differ. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nfoo\r\n\r\n", false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
			       false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
			       false, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			       "Content-Length: 2\r\n\r\nab",
			       false, &a),
			 ES_HTTP_BAD);
	/* Both framings: refused rather than guessed. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n",
			       false, &a),
			 ES_HTTP_BAD);
}

static void test_es_http_truncated_at_eof_is_bad(void **state)
{
	struct es_http_answer a;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Le", true, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
			       true, &a),
			 ES_HTTP_BAD);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			       "\r\n\r\n5\r\nab",
			       true, &a),
			 ES_HTTP_BAD);
}

static void test_es_http_bad_chunks_are_bad(void **state)
{
	struct es_http_answer a;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			       "\r\n\r\nzz\r\n",
			       false, &a),
			 ES_HTTP_BAD);
	/* The chunk's data not followed by CRLF. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			       "\r\n\r\n2\r\nabcd\r\n",
			       false, &a),
			 ES_HTTP_BAD);
}

static void test_es_http_head_over_the_limit_is_bad(void **state)
{
	struct es_http_answer a;
	size_t n = ES_HTTP_HEAD_MAX + 100;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', n - 20);
	big[n] = '\0';
	assert_int_equal(parse(big, false, &a), ES_HTTP_BAD);
	free(big);
}

static void test_es_http_partial_answers_ask_for_more(void **state)
{
	const char *whole = "HTTP/1.1 200 OK\r\nContent-Type: application/json"
			    "\r\nContent-Length: 11\r\n\r\n{\"a\":true}\n";
	struct es_http_answer a;
	size_t len = strlen(whole);

	for (size_t n = 0; n < len; n++)
		assert_int_equal(es_http_parse(whole, n, false, &a),
				 ES_HTTP_MORE);
	assert_int_equal(es_http_parse(whole, len, false, &a), ES_HTTP_DONE);
	assert_int_equal(a.status, 200);
	assert_true(a.keep_alive);
	assert_int_equal(a.length, len);
	assert_int_equal(a.body_bytes, 11);
	assert_memory_equal(whole + a.body, "{\"a\":true}\n", 11);
}

static void test_es_http_bytes_after_the_answer_are_left(void **state)
{
	struct es_http_answer a;

	assert_int_equal(parse("HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n"
			       "\r\n{}HTTP/1.1",
			       false, &a),
			 ES_HTTP_DONE);
	assert_int_equal(a.status, 409);
	assert_int_equal(a.length, strlen("HTTP/1.1 409 Conflict\r\n"
					  "Content-Length: 2\r\n\r\n{}"));
}

static void test_es_http_connection_fate(void **state)
{
	struct es_http_answer a;

	/* Werkzeug's development server: HTTP/1.1, then closes. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			       "Connection: close\r\n\r\n",
			       false, &a),
			 ES_HTTP_DONE);
	assert_false(a.keep_alive);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:0\r\n"
			       "connection: Upgrade, Close\r\n\r\n",
			       false, &a),
			 ES_HTTP_DONE);
	assert_false(a.keep_alive);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
			       false, &a),
			 ES_HTTP_DONE);
	assert_false(a.keep_alive);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"
			       "Connection: keep-alive\r\n\r\n",
			       false, &a),
			 ES_HTTP_DONE);
	assert_true(a.keep_alive);
	/* A reason phrase is optional. */
	assert_int_equal(
		parse("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", false, &a),
		ES_HTTP_DONE);
	assert_int_equal(a.status, 503);
	assert_true(a.keep_alive);
}

static void test_es_http_chunked_body(void **state)
{
	const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked"
			   "\r\n\r\n4\r\n[1,2\r\na;ext=1\r\n,3,4,5,6]\n\r\n"
			   "0\r\nX-Trailer: 1\r\n\r\n";
	struct es_http_answer a;
	size_t len = strlen(text);

	for (size_t n = 0; n < len; n++)
		assert_int_equal(es_http_parse(text, n, false, &a),
				 ES_HTTP_MORE);
	assert_int_equal(es_http_parse(text, len, false, &a), ES_HTTP_DONE);
	assert_int_equal(a.length, len);
	assert_true(a.keep_alive);
}

static void test_es_http_body_to_the_end_of_the_connection(void **state)
{
	const char *text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
			   "all of it";
	struct es_http_answer a;

	assert_int_equal(parse(text, false, &a), ES_HTTP_MORE);
	assert_int_equal(parse(text, true, &a), ES_HTTP_DONE);
	assert_int_equal(a.body_bytes, 9);
	assert_int_equal(a.length, strlen(text));
	assert_false(a.keep_alive);
}

static void test_es_http_no_body_statuses(void **state)
{
	struct es_http_answer a;

	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", false, &a),
			 ES_HTTP_DONE);
	assert_int_equal(a.body_bytes, 0);
	assert_int_equal(parse("HTTP/1.1 304 Not Modified\r\n"
			       "Content-Length: 10\r\n\r\n",
			       false, &a),
			 ES_HTTP_DONE);
	assert_int_equal(a.body_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_es_http_not_http_is_bad),
		cmocka_unit_test(test_es_http_malformed_headers_are_bad),
		cmocka_unit_test(test_es_http_truncated_at_eof_is_bad),
		cmocka_unit_test(test_es_http_bad_chunks_are_bad),
		cmocka_unit_test(test_es_http_head_over_the_limit_is_bad),
		cmocka_unit_test(test_es_http_partial_answers_ask_for_more),
		cmocka_unit_test(test_es_http_bytes_after_the_answer_are_left),
		cmocka_unit_test(test_es_http_connection_fate),
		cmocka_unit_test(test_es_http_chunked_body),
		cmocka_unit_test(
			test_es_http_body_to_the_end_of_the_connection),
		cmocka_unit_test(test_es_http_no_body_statuses),
	};

	return cmocka_run_group_tests_name("es_load_http", tests, NULL, NULL);
}
