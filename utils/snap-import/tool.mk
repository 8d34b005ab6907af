# snap-import links libpq (COPY), libcrypto (SHA-256), libsystemd (sd_notify)
# and libmicrohttpd (/metrics).
snap-import_PKGS := libpq libcrypto libsystemd libmicrohttpd
