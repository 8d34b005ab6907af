/*
 * test_listen.c - unit tests for common/listen.c.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "listen.h"

static void test_listen_parse(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char text[64];
	socklen_t len;

	assert_int_equal(dbops_listen_parse("127.0.0.1:9187", &ss, &len), 0);
	assert_int_equal(in4->sin_family, AF_INET);
	assert_int_equal(ntohs(in4->sin_port), 9187);
	assert_string_equal(
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text)),
		"127.0.0.1");
	assert_int_equal(dbops_listen_parse(":9187", &ss, &len), 0);
	assert_int_equal(in4->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(dbops_listen_parse("localhost:1", &ss, &len), 0);
	assert_int_equal(in4->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(dbops_listen_parse("[::1]:9187", &ss, &len), 0);
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 9187);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
}

static void test_listen_parse_rejects_bad_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_int_equal(dbops_listen_parse("9187", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("127.0.0.1:", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("127.0.0.1:0", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("127.0.0.1:65536", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("127.0.0.1:80x", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("example.org:80", &ss, &len), -1);
	assert_int_equal(dbops_listen_parse("[::1:80", &ss, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse_rejects_bad_addresses),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
