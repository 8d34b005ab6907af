/*
 * definer.h - the DEFINER clause of a dump's CREATE (or ALTER) VIEW,
 * PROCEDURE, FUNCTION, TRIGGER, EVENT or PACKAGE statement, found so that
 * the loader can leave it out: the object is then defined by the account
 * that loads the dump, which exists in every world, instead of a
 * production account that does not (whose objects would fail for
 * `analyst` with "The user specified as a definer does not exist").
 *
 * Pure: bytes in, a span out. It reads only the statement's head, before
 * the object's name, as mariadb-dump writes it and as people do:
 *
 *	CREATE DEFINER=`prod`@`%` PROCEDURE `p`() ...
 *	/\*!50001 CREATE ALGORITHM=UNDEFINED *\/
 *	/\*!50013 DEFINER=`prod`@`%` SQL SECURITY DEFINER *\/
 *	/\*!50001 VIEW `v` AS ...
 *	/\*!50003 CREATE*\/ /\*!50017 DEFINER=`prod`@`%`*\/ /\*!50003 TRIGGER ...
 *	CREATE OR REPLACE DEFINER = 'prod'@'%' SQL SECURITY DEFINER VIEW v ...
 *	CREATE DEFINER=CURRENT_USER() FUNCTION f() ...
 *
 * (the comments written here with "\" only to keep this one open).
 */
#ifndef DR_DEFINER_H
#define DR_DEFINER_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether STMT (LEN bytes) is a CREATE or ALTER statement with a DEFINER
 * clause before its object's keyword; then [*FROM, *TO) is the clause,
 * from "DEFINER" to the end of the account ("`prod`@`%`", "CURRENT_USER",
 * "CURRENT_USER()" or a role's name).
 */
bool dr_definer_find(const char *stmt, size_t len, size_t *from, size_t *to);

#endif
