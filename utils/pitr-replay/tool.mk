# pitr-replay links libarchive (tar base backups, any compression), zlib
# (gzip-compressed WAL), libpq and libcrypto (the SHA checksums of a
# backup_manifest).
pitr-replay_PKGS := libarchive zlib libpq libcrypto
