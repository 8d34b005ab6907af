# pitr-replay links libarchive (tar base backups, any compression), zlib
# (gzip-compressed WAL), libpq and libcrypto (the SHA checksums of a
# backup_manifest).
pitr-replay_PKGS := libarchive zlib libpq libcrypto

# pitr-replay-fetch-wal: fetch-wal alone, the restore_command pitr-replay
# restore writes (utils/pitr-replay/fetchwal/main.c): fetch.c built without
# libarchive, linked with zlib only, so that each of the server's calls
# starts in well under a millisecond, not the 6 ms of loading pitr-replay's
# libraries. It runs pitr-replay for whatever it does not read itself. It
# goes to LIBEXECDIR ($(PREFIX)/lib/dbops), in the build tree
# $(BUILD)/lib/dbops: restore looks for it at ../lib/dbops from its own
# directory.
PITR_FETCH_WAL := $(BUILD)/lib/dbops/pitr-replay-fetch-wal
PITR_FETCH_WAL_OBJ := $(BUILD)/utils/pitr-replay/fetchwal/main.o \
	$(BUILD)/utils/pitr-replay/fetchwal/fetch.o \
	$(BUILD)/utils/pitr-replay/fetchwal/wal.o
LIBEXEC_BINS += $(PITR_FETCH_WAL)

$(filter-out %/main.o,$(PITR_FETCH_WAL_OBJ)): $(BUILD)/utils/pitr-replay/fetchwal/%.o: utils/pitr-replay/%.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -DPITR_FETCH_LIGHT $(ALL_CFLAGS) $(call pkg_cflags,zlib) -MMD -MP -c -o $@ $<

$(PITR_FETCH_WAL): $(PITR_FETCH_WAL_OBJ) $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(PITR_FETCH_WAL_OBJ) $(LIBDBOPS) $(call pkg_libs,zlib)

-include $(wildcard $(BUILD)/utils/pitr-replay/fetchwal/*.d)
