# snap-import links libpq (COPY), libcrypto (SHA-256), libsystemd (sd_notify)
# libmicrohttpd (/metrics), zlib and libarchive (compressed files).
snap-import_PKGS := libpq libcrypto libsystemd libmicrohttpd libarchive zlib
