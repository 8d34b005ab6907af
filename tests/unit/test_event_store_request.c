/*
 * test_event_store_request.c - unit tests for utils/event-store/request.c:
 * bodies (JSON and form), UUIDs, symbols, range bounds, times and JSON
 * strings as the API writes them.
 */
#include "testutil.h"

#include "../../utils/event-store/request.h"

#define U "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"

static int parse(enum es_content kind, const char *body, bool want_symbol,
		 struct es_fields *f, char *msg)
{
	return es_request_parse(kind, "x/y", body, strlen(body), want_symbol, f,
				msg, ES_MSG_MAX);
}

static void expect_error(enum es_content kind, const char *body,
			 bool want_symbol, int status, const char *text)
{
	struct es_fields f;
	char msg[ES_MSG_MAX] = "";

	assert_int_equal(parse(kind, body, want_symbol, &f, msg), status);
	assert_string_equal(msg, text);
}

static void test_json_malformed_bodies(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"uuid\":",
		"[1]",
		"\"x\"",
		"3",
		"null",
		"{} x",
		"{}{}",
		"{'uuid':1}",
		"{\"a\":1,}",
		"{} /* */",
		"{\"a\":NaN}",
		"{\"a\":-Infinity}",
		"{\"a\":nan}",
		"{\"a\":True}",
		/* Control bytes in strings, which JSON escapes: json-c takes
		 * them (fuzz_event_store_request). */
		"{\"a\":\"x\037y\"}",
		"{\"a\":\"\n\"}",
		"{\"a\":\"\t\"}",
		"{\"a\001\":1}",
		/* Numbers outside JSON's grammar, which json-c takes. */
		"{\"a\":00}",
		"{\"a\":[01]}",
		"{\"a\":-}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":1e}",
		"{\"a\":1-2}",
		"{\"a\":+1}",
		NULL,
	};

	for (int i = 0; bad[i]; i++)
		expect_error(ES_CONTENT_JSON, bad[i], true, 400,
			     "malformed JSON body");
}

static void test_json_nul_byte_is_malformed(void **state)
{
	struct es_fields f;
	char msg[ES_MSG_MAX];
	const char body[] = "{\"uuid\":\"" U "\"}\0";

	assert_int_equal(es_request_parse(ES_CONTENT_JSON, NULL, body,
					  sizeof(body), false, &f, msg,
					  sizeof(msg)),
			 400);
	assert_string_equal(msg, "malformed JSON body");
}

static void test_json_missing_and_bad_fields(void **state)
{
	expect_error(ES_CONTENT_JSON, "{}", true, 400,
		     "missing field \"uuid\"");
	expect_error(ES_CONTENT_JSON, "{\"symbol\":\"a\"}", true, 400,
		     "missing field \"uuid\"");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":1}", true, 400,
		     "field \"uuid\" is not a UUID");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":null}", true, 400,
		     "field \"uuid\" is not a UUID");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "x\"}", true, 400,
		     "field \"uuid\" is not a UUID");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "\"}", true, 400,
		     "missing field \"symbol\"");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "\",\"symbol\":\"A\"}",
		     true, 400, "field \"symbol\" is not one letter a-z");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "\",\"symbol\":\"ab\"}",
		     true, 400, "field \"symbol\" is not one letter a-z");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "\",\"symbol\":1}", true,
		     400, "field \"symbol\" is not one letter a-z");
	expect_error(ES_CONTENT_JSON, "{\"uuid\":\"" U "\",\"symbol\":\"\"}",
		     true, 400, "field \"symbol\" is not one letter a-z");
}

static void test_json_good_bodies(void **state)
{
	struct es_fields f;
	char msg[ES_MSG_MAX];

	assert_int_equal(parse(ES_CONTENT_JSON,
			       "{\"uuid\":\"" U "\",\"s\":\"'NaN\\\" x\","
			       "\"n\":[-1.5e+3,true,false,null]}",
			       false, &f, msg),
			 0);
	assert_int_equal(
		parse(ES_CONTENT_JSON,
		      " {\"symbol\":\"e\",\"x\":[1,{}],\"uuid\":\"6F1C2D3E-4A5B-4C6D-8E7F-0123456789AB\"}\r\n",
		      true, &f, msg),
		0);
	assert_string_equal(f.uuid, U);
	assert_int_equal(f.symbol, 'e');
	/* A follow-up ignores the symbol, whatever it is. */
	assert_int_equal(parse(ES_CONTENT_JSON,
			       "{\"uuid\":\"" U "\",\"symbol\":7}", false, &f,
			       msg),
			 0);
	assert_int_equal(f.symbol, 0);
}

static void test_form_bodies(void **state)
{
	struct es_fields f;
	char msg[ES_MSG_MAX];

	expect_error(ES_CONTENT_FORM, "uuid", true, 400, "malformed form body");
	expect_error(ES_CONTENT_FORM, "uuid=%zz", true, 400,
		     "malformed form body");
	expect_error(ES_CONTENT_FORM, "uuid=%4", true, 400,
		     "malformed form body");
	expect_error(ES_CONTENT_FORM, "", true, 400, "missing field \"uuid\"");
	expect_error(ES_CONTENT_FORM, "uuid=" U "&symbol=%41", true, 400,
		     "field \"symbol\" is not one letter a-z");
	expect_error(ES_CONTENT_FORM, "uuid=" U "+", true, 400,
		     "field \"uuid\" is not a UUID");
	assert_int_equal(parse(ES_CONTENT_FORM,
			       "&x=1&uuid=" U "&symbol=%61&symbol=b&", true, &f,
			       msg),
			 0);
	assert_string_equal(f.uuid, U);
	assert_int_equal(f.symbol, 'a');
}

static void test_other_content_types(void **state)
{
	struct es_fields f;
	char msg[ES_MSG_MAX];

	assert_int_equal(es_content_kind(NULL), ES_CONTENT_JSON);
	assert_int_equal(es_content_kind("Application/JSON; charset=utf-8"),
			 ES_CONTENT_JSON);
	assert_int_equal(es_content_kind("application/x-www-form-urlencoded"),
			 ES_CONTENT_FORM);
	assert_int_equal(es_content_kind("application/jsonx"),
			 ES_CONTENT_OTHER);
	assert_int_equal(es_content_kind("text/plain"), ES_CONTENT_OTHER);
	assert_int_equal(es_request_parse(ES_CONTENT_OTHER, "text/\"plain", "",
					  0, true, &f, msg, sizeof(msg)),
			 415);
	assert_string_equal(msg, "unsupported content type \"text/\"plain\"");
}

static void test_uuid_and_symbol(void **state)
{
	char u[ES_UUID_LEN + 1];

	assert_false(es_uuid_parse("", u));
	assert_false(es_uuid_parse("6f1c2d3e4a5b4c6d8e7f0123456789ab", u));
	assert_false(es_uuid_parse("{" U "}", u));
	assert_false(es_uuid_parse("6f1c2d3e-4a5b-4c6d-8e7f-0123456789ag", u));
	assert_false(es_uuid_parse("6f1c2d3e-4a5b-4c6d-8e7f-0123456789a", u));
	assert_true(es_uuid_parse("00000000-0000-0000-0000-000000000000", u));
	assert_true(es_uuid_parse("6F1C2D3E-4A5B-1C6D-FE7F-0123456789AB", u));
	assert_string_equal(u, "6f1c2d3e-4a5b-1c6d-fe7f-0123456789ab");
	assert_true(es_symbol_ok("z"));
	assert_false(es_symbol_ok("Z"));
	assert_false(es_symbol_ok(""));
	assert_false(es_symbol_ok("ab"));
	assert_false(es_symbol_ok("{"));
	assert_true(es_symbol_vowel('u'));
	assert_false(es_symbol_vowel('y'));
	assert_false(es_symbol_vowel('\0'));
}

static void test_time_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"2017",
		"2017-06",
		"2017-6-28",
		"2017-06-28 ",
		"2017-06-28 19",
		"2017-06-28 19:3",
		"2017-06-28 24:00",
		"2017-06-28 19:60",
		"2017-06-28 19:34:60",
		"2017-06-28 19:34:14.",
		"2017-06-28 19:34:14.1234567",
		"2017-06-28 19:34.5",
		"2017-06-28_19:34",
		"2017-06-28  19:34",
		"2017-02-29",
		"2017-13-01",
		"2017-00-01",
		"0000-01-01",
		"2017-06-28 19:34:14Z",
		"2017-06-28 19:34:14+00",
		"@1498678454",
		NULL,
	};
	int64_t us = 42;

	for (int i = 0; bad[i]; i++) {
		if (es_time_parse(bad[i], &us) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(us, 42);
}

static void test_time_parse_forms(void **state)
{
	int64_t us;

	assert_int_equal(es_time_parse("1970-01-01", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(es_time_parse("2017-06-28", &us), 0);
	assert_int_equal(us, INT64_C(1498608000000000));
	assert_int_equal(es_time_parse("2017-06-28 19:34", &us), 0);
	assert_int_equal(us, INT64_C(1498678440000000));
	assert_int_equal(es_time_parse("2017-06-28T19:34:14", &us), 0);
	assert_int_equal(us, INT64_C(1498678454000000));
	assert_int_equal(es_time_parse("2017-06-28t19:34:14.486693", &us), 0);
	assert_int_equal(us, INT64_C(1498678454486693));
	assert_int_equal(es_time_parse("2017-06-28 19:34:14.4", &us), 0);
	assert_int_equal(us, INT64_C(1498678454400000));
	assert_int_equal(es_time_parse("2016-02-29 23:59:59.999999", &us), 0);
	assert_int_equal(us, INT64_C(1456790399999999));
	assert_int_equal(es_time_parse("1969-12-31 23:59:59.5", &us), 0);
	assert_int_equal(us, -500000);
}

static void test_time_format(void **state)
{
	char buf[ES_TIME_LEN];

	es_time_format(INT64_C(1498678454486693), buf);
	assert_string_equal(buf, "2017-06-28 19:34:14.486693");
	es_time_format(0, buf);
	assert_string_equal(buf, "1970-01-01 00:00:00.000000");
	es_time_format(-1, buf);
	assert_string_equal(buf, "1969-12-31 23:59:59.999999");
	es_time_format(INT64_C(1456790399999999), buf);
	assert_string_equal(buf, "2016-02-29 23:59:59.999999");
	es_time_format(INT64_C(253402300799999999), buf);
	assert_string_equal(buf, "9999-12-31 23:59:59.999999");
}

static void test_json_string_escapes(void **state)
{
	char *s = es_json_string("a\"b\\c\n\x01/\xc3\xa9\xff");

	assert_string_equal(s, "\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\\ufffd\"");
	free(s);
	s = es_error_body("no such path: /x\"");
	assert_string_equal(s, "{\"error\":\"no such path: /x\\\"\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_malformed_bodies),
		cmocka_unit_test(test_json_nul_byte_is_malformed),
		cmocka_unit_test(test_json_missing_and_bad_fields),
		cmocka_unit_test(test_json_good_bodies),
		cmocka_unit_test(test_form_bodies),
		cmocka_unit_test(test_other_content_types),
		cmocka_unit_test(test_uuid_and_symbol),
		cmocka_unit_test(test_time_parse_rejects),
		cmocka_unit_test(test_time_parse_forms),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_json_string_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
