/*
 * fuzz_listen - libFuzzer target for --listen (common/listen.c), the
 * address snap-import sync and event-store listen on.
 *
 * Properties: an accepted address is IPv4 or IPv6 with a port from 1 to
 * 65535 and its length; printed back as ADDR:PORT or [ADDR]:PORT it parses
 * to the same address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SS as text that --listen reads, into BUF. */
static void print(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(in6->sin6_port));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), printed[80];
	struct sockaddr_storage ss, again;
	socklen_t len, len2;
	in_port_t port;

	memset(&ss, 0, sizeof(ss));
	if (dbops_listen_parse(text, &ss, &len) != 0) {
		free(text);
		return 0;
	}
	if (ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in))
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6))
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		abort();
	if (port == 0)
		abort();
	print(&ss, printed, sizeof(printed));
	memset(&again, 0, sizeof(again));
	if (dbops_listen_parse(printed, &again, &len2) != 0 || len2 != len ||
	    memcmp(&ss, &again, len) != 0) {
		fprintf(stderr, "\"%s\" printed as \"%s\" reads otherwise\n",
			text, printed);
		abort();
	}
	free(text);
	return 0;
}
