/*
 * main.c - placeholder so that the Makefile builds event-store's modules
 * and their unit tests on the es-redis branch; the service's own main.c
 * replaces it at the merge.
 */
#include <stdio.h>

int main(void)
{
	fputs("event-store: error: placeholder build\n", stderr);
	return 1;
}
