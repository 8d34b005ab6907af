# event-store links libpq (the tables), libmicrohttpd (HTTP), libsystemd
# (sd_notify), json-c (bodies) and hiredis (the aggregates in Redis).
event-store_PKGS := libpq libmicrohttpd libsystemd json-c hiredis
