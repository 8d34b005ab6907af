# pitr-replay links libarchive (tar base backups, any compression), zlib
# (gzip-compressed WAL) and libpq.
pitr-replay_PKGS := libarchive zlib libpq
