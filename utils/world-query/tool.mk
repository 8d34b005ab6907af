# world-query links MariaDB Connector/C (the worlds) and SQLite (--reduce).
world-query_PKGS := libmariadb sqlite3
