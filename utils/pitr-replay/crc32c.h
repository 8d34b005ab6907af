/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every WAL record.
 *
 * PostgreSQL starts at 0xFFFFFFFF and inverts at the end; pitr_crc32c_update()
 * works on the running (not inverted) value, so a record's CRC is
 * crc32c_finish(pitr_crc32c_update(pitr_crc32c_update(CRC32C_INIT, a, n), b, m)).
 */
#ifndef PITR_CRC32C_H
#define PITR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#define CRC32C_INIT	   0xFFFFFFFFu
#define crc32c_finish(crc) ((crc) ^ 0xFFFFFFFFu)

/*
 * CRC-32C (Castagnoli) of LEN bytes at DATA, continuing CRC: start from
 * CRC32C_INIT and end with crc32c_finish(), as PostgreSQL's
 * INIT_CRC32C/COMP_CRC32C/FIN_CRC32C. Uses the SSE 4.2 instruction when
 * the CPU has it, the table otherwise; both give the same result.
 */
uint32_t pitr_crc32c_update(uint32_t crc, const void *data, size_t len);

/*
 * CRC[I] = pitr_crc32c_update(CRC[I], DATA[I], LEN[I]) for I below N, the
 * buffers summed three at a time where the CPU has SSE 4.2 (about twice as
 * fast on short buffers such as WAL records: see crc32c.c).
 */
void pitr_crc32c_update_many(uint32_t *crc, const unsigned char *const *data,
			     const size_t *len, size_t n);

/* The table-driven path alone, so tests can hold it against the other. */
uint32_t pitr_crc32c_update_portable(uint32_t crc, const void *data,
				     size_t len);

#endif
