# dump-restore links MariaDB Connector/C (the loader) and zlib (the dumps).
dump-restore_PKGS := libmariadb zlib
