/*
 * listen.h - the address a service listens on, as --listen gives it:
 * "ADDR:PORT", "[IPV6]:PORT", "localhost:PORT" or ":PORT" (every address).
 * Shared by the services of the suite (snap-import sync, event-store).
 */
#ifndef DBOPS_LISTEN_H
#define DBOPS_LISTEN_H

#include <sys/socket.h>

/*
 * Parse TEXT into *SS and its length into *LEN. Returns 0, or -1 for a text
 * without a port, a port outside 1 to 65535, or an address that is not a
 * numeric IPv4 or bracketed IPv6 address (host names other than
 * "localhost" are not looked up). Pure: no I/O.
 */
int dbops_listen_parse(const char *text, struct sockaddr_storage *ss,
		       socklen_t *len);

#endif
