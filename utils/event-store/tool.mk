# event-store links libpq (the events), libmicrohttpd (the HTTP API),
# libsystemd (sd_notify), json-c (request bodies) and hiredis (aggregates).
event-store_PKGS := libpq libmicrohttpd libsystemd json-c hiredis
