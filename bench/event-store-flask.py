#!/usr/bin/python3
"""bench/event-store-flask.py - the naive event backend event-store replaces.

The baseline of bench/event-store.sh: what issue 18 starts from, written
the way a naive application would be, on purpose:

- Flask (Debian's python3-flask), run by Flask's own threaded development
  server (app.run(threaded=True): a thread per connection, a log line per
  request on stderr), as it is deployed; Werkzeug 2.2's server answers
  HTTP/1.1 but always with "Connection: close" (no keep-alive), so each
  request of a client costs a new connection;
- SQLite (Python's sqlite3), one connection per request (Flask's tutorial
  way: opened on first use in `g`, closed at the end of the request), the
  default journal mode (DELETE) and synchronous setting (FULL), one INSERT
  and one COMMIT per event;
- the dashboards are SELECTs over the raw events on every request (no
  aggregates kept, no index besides the primary keys).

It answers the same paths, JSON shapes and status codes as event-store
(utils/event-store, its man page): POST /initial, POST /followup, GET
/dashboard/symbol/<s>, GET /dashboard/range/<lower>/<upper>, and the main
errors (400, 404, 405, 409, 413, 415) with {"error": "..."} bodies. Times
are UTC, "YYYY-MM-DD HH:MM:SS.ffffff", stored as that text, which sorts as
the time does.

Usage: /usr/bin/python3 bench/event-store-flask.py [--db FILE] PORT
       (listens on 127.0.0.1:PORT; FILE defaults to ./event-store.sqlite)
"""

import argparse
import datetime
import re
import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 4096
# Keys in the order the interface gives them, no spaces: Flask 2.2 on
# (bookworm) has app.json; Flask 1.1 (bullseye) the configuration key.
if hasattr(app, "json") and hasattr(app.json, "sort_keys"):
    app.json.sort_keys = False
    app.json.compact = True
else:
    app.config["JSON_SORT_KEYS"] = False
    app.config["JSONIFY_PRETTYPRINT_REGULAR"] = False

UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
SYMBOL_RE = re.compile(r"[a-z]")
BOUND_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS initial_events (
    uuid TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    at TEXT NOT NULL,
    vowel INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS followups (
    uuid TEXT PRIMARY KEY REFERENCES initial_events (uuid),
    at TEXT NOT NULL
);
"""


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f"
    )


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
    return g.db


@app.teardown_appcontext
def close_db(exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def error(status, message, headers=None):
    resp = jsonify(error=message)
    resp.status_code = status
    if headers:
        resp.headers.update(headers)
    return resp


def fields():
    """The request's fields, or an error answer."""
    if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
        return None, too_large(None)
    ctype = request.mimetype
    if ctype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, error(400, "malformed JSON body")
        return body, None
    if ctype == "application/x-www-form-urlencoded":
        return request.form, None
    return None, error(415, 'unsupported content type "%s"' % request.content_type)


def uuid_field(body):
    if "uuid" not in body:
        return None, error(400, 'missing field "uuid"')
    u = body["uuid"]
    if not isinstance(u, str) or not UUID_RE.fullmatch(u):
        return None, error(400, 'field "uuid" is not a UUID')
    return u.lower(), None


@app.route("/initial", methods=["POST"])
def initial():
    body, err = fields()
    if err:
        return err
    u, err = uuid_field(body)
    if err:
        return err
    if "symbol" not in body:
        return error(400, 'missing field "symbol"')
    s = body["symbol"]
    if not isinstance(s, str) or not SYMBOL_RE.fullmatch(s):
        return error(400, 'field "symbol" is not one letter a-z')
    vowel = s in "aeiou"
    db = get_db()
    try:
        db.execute(
            "INSERT INTO initial_events (uuid, symbol, at, vowel) VALUES (?, ?, ?, ?)",
            (u, s, now(), vowel),
        )
        db.commit()
    except sqlite3.IntegrityError:
        return error(409, "uuid %s already has an initial event" % u)
    return jsonify(uuid=u, symbol=s, vowel=vowel)


@app.route("/followup", methods=["POST"])
def followup():
    body, err = fields()
    if err:
        return err
    u, err = uuid_field(body)
    if err:
        return err
    db = get_db()
    row = db.execute(
        "SELECT symbol FROM initial_events WHERE uuid = ?", (u,)
    ).fetchone()
    if row is None:
        return error(404, "no initial event with uuid %s" % u)
    try:
        db.execute("INSERT INTO followups (uuid, at) VALUES (?, ?)", (u, now()))
        db.commit()
    except sqlite3.IntegrityError:
        return error(409, "uuid %s already has a follow-up" % u)
    return jsonify(uuid=u, symbol=row[0], followup=True)


def aggregate(symbol, count, earliest, latest, followups):
    return {
        "count": count,
        "symbol": symbol,
        "earliest": earliest,
        "latest": latest,
        "followups": followups,
    }


@app.route("/dashboard/symbol/<s>")
def dashboard_symbol(s):
    if not SYMBOL_RE.fullmatch(s):
        return error(400, 'symbol "%s" is not one letter a-z' % s)
    db = get_db()
    count, earliest, latest = db.execute(
        "SELECT count(*), min(at), max(at) FROM initial_events WHERE symbol = ?",
        (s,),
    ).fetchone()
    (followups,) = db.execute(
        "SELECT count(*) FROM followups f JOIN initial_events i ON i.uuid = f.uuid"
        " WHERE i.symbol = ?",
        (s,),
    ).fetchone()
    return jsonify(aggregate(s, count, earliest, latest, followups))


def bound(text):
    """TEXT as the stored form of a time, or None."""
    m = BOUND_RE.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, sec, frac = m.groups()
    try:
        t = datetime.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
            int((frac or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


@app.route("/dashboard/range/<lower>/<upper>")
def dashboard_range(lower, upper):
    lo, hi = bound(lower), bound(upper)
    if lo is None:
        return error(400, '"%s" is not a date or time' % lower)
    if hi is None:
        return error(400, '"%s" is not a date or time' % upper)
    if lo > hi:
        return error(400, "range lower bound %s is after upper bound %s" % (lower, upper))
    rows = get_db().execute(
        "SELECT i.symbol, count(*), min(i.at), max(i.at), count(f.uuid)"
        " FROM initial_events i LEFT JOIN followups f ON f.uuid = i.uuid"
        " WHERE i.at >= ? AND i.at < ? GROUP BY i.symbol ORDER BY i.symbol",
        (lo, hi),
    ).fetchall()
    return jsonify([aggregate(*r) for r in rows])


@app.errorhandler(404)
def not_found(e):
    return error(404, "no such path: %s" % request.path)


@app.errorhandler(405)
def not_allowed(e):
    allow = ", ".join(e.valid_methods or [])
    return error(
        405, "method %s not allowed on %s" % (request.method, request.path),
        {"Allow": allow},
    )


@app.errorhandler(413)
def too_large(e):
    return error(413, "request body over %d bytes" % app.config["MAX_CONTENT_LENGTH"])


def main():
    p = argparse.ArgumentParser(description="the naive event backend (Flask, SQLite)")
    p.add_argument("--db", default="event-store.sqlite", help="the SQLite file")
    p.add_argument("port", type=int, help="the port on 127.0.0.1")
    args = p.parse_args()
    app.config["DATABASE"] = args.db
    with sqlite3.connect(args.db) as db:
        db.executescript(SCHEMA)
    app.run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
