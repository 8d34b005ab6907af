/*
 * tar_dos_huge_realsize.h - the fuzzing reproducer
 * tar-DoS-PG_VERSION-huge-realsize.tar (../shared/qa/repro/, fuzz.md
 * finding 1), 6837 bytes, as the runs of bytes that are not zero: a tar
 * whose PG_VERSION stores 3 bytes but claims 2^63 - 1 through a GNU
 * "realsize" field (base-256) in its header. Made by a script from the
 * file; expand with tar_dos_bytes().
 */
#ifndef TAR_DOS_HUGE_REALSIZE_H
#define TAR_DOS_HUGE_REALSIZE_H

#define TAR_DOS_SIZE 6837

static const struct {
	unsigned off, len;
	const char *bytes;
} tar_dos_runs[] = {
	{ 0, 12, "backup_label" },
	{ 100, 57,
	  "0000644\x00"
	  "0000000\x00"
	  "0000000\x00"
	  "00000000401\x00"
	  ""
	  "14570341312\x00"
	  "010266\x00 0" },
	{ 257, 7, "ustar  " },
	{ 512, 257,
	  "START WAL LOCATION: 0/2000028 (file 00000001000000000000"
	  "0002)\x0aINCREMENTAL FROM LSN: 0/1000000\x0a"
	  "CHECKPOINT"
	  " LOCATION: 0/2000060\x0a"
	  "BACKUP METHOD: streamed\x0a"
	  "B"
	  "ACKUP FROM: primary\x0aSTAR\x3f TIME: 2024-03-01 11:58:0"
	  "2 UTC\x0aLABEL: pg_basebackup base backup\x0aSTART TIMEL"
	  "INE: 1\x0a" },
	{ 1024, 10, "PG_VERSION" },
	{ 1124, 57,
	  "0000644\x00"
	  "0000000\x00"
	  "0000000\x00"
	  "00000000003\x00"
	  ""
	  "14570341312\x00"
	  "016303\x00 0" },
	{ 1281, 7, "ustar  " },
	{ 1507, 24,
	  "\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93"
	  "\x93\x93\x93\x93\x93\x93\x93\x93\x93\x93" },
	{ 1560, 3, "17\x0a" },
	{ 1870, 2, "gl" },
	{ 2074, 17, "global/pg_control" },
	{ 2174, 57,
	  "0000644\x00"
	  "0000000\x00"
	  "000000011262\x00 00010\x00"
	  "14"
	  "570341312\x00"
	  "011264\x00 0" },
	{ 2331, 7, "ustar  " },
	{ 2586, 8, "xxxxxxxx" },
	{ 2708, 8, "002300\x00 " },
	{ 4756, 8, "005262\x00 " },
	{ 4993, 13,
	  "\x01"
	  "backup_label" },
	{ 5052, 13,
	  "\x07"
	  "backup_label" },
	{ 5153, 57,
	  "0000644\x00"
	  "0000000\x00"
	  "0000000\x00"
	  "00000000401\x00"
	  ""
	  "14570341312\x00"
	  "010266\x00 0" },
	{ 5268, 8, "022441\x00 " },
	{ 5310, 15, "ustar  \x00\x00\x00\x00\x00\x00\x00\xb3" },
	{ 5514, 8, "\xf6\xff\xff\xff\xff\xff\xff\xff" },
	{ 5565, 149,
	  "START WAL LOCATION: 0/2000028 (file 00000001000000000000"
	  "0002)\x0aINCREMENTAL FROM LSN: 0/1000000\x0a"
	  "CHECKPOINT"
	  " LOCATION: 0/2000060\x0a"
	  "BACKUP METHOD: streamed\x0a" },
	{ 5756, 128,
	  "0000644\x00,000000\x00"
	  "000BACKU062050\x00 primary\x0aST"
	  "ART TIME: 2024-03-01 11:58:02 UTC\x0aLABEL: pg_basebacku"
	  "p base backup\x0aSTAR\x0fT TIMELINE: 1\x0a" },
	{ 5980, 59,
	  "0000\x00"
	  "00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	  "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	  "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	  "\xff\xff\xff\xff\xff"
	  "00000034" },
	{ 6164, 23,
	  "1\x00"
	  "14570341312\x00"
	  "044657\x00 0" },
};

/* The tar itself, into BUF of TAR_DOS_SIZE bytes. */
static void tar_dos_bytes(unsigned char *buf)
{
	memset(buf, 0, TAR_DOS_SIZE);
	for (size_t i = 0; i < sizeof(tar_dos_runs) / sizeof(tar_dos_runs[0]);
	     i++)
		memcpy(buf + tar_dos_runs[i].off, tar_dos_runs[i].bytes,
		       tar_dos_runs[i].len);
}

#endif
