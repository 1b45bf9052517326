"""MLflow's own database user: created, or its password set, by the database's master user.

Run in AWS as a one-shot task of the MLflow image (`python /app/bootstrap_db.py`) by the platform's
rotation automation (infra/src/components/mlflow-db-user.ts) whenever the MLflow user's secret gets a
new value; then MLflow's tasks are replaced so they connect with it. MLflow never holds the master
password, so the RDS-managed rotation of the master secret no longer breaks it.

Idempotent. It
  - creates the login role MLFLOW_DB_USER, or sets its password when it exists; the password reaches
    PostgreSQL as a SCRAM-SHA-256 verifier computed here, never in clear (not even in a server log);
  - grants it CONNECT and TEMPORARY on the database and USAGE and CREATE on the `public` schema;
  - hands it the tables, views, sequences and types of `public` the master user owns (MLflow's
    schema from the time it connected as the master), so its migrations can alter them.

Environment (the password values arrive as ECS secrets):
  MLFLOW_DB_HOST, MLFLOW_DB_PORT (5432), MLFLOW_DB_NAME (mlflow), MLFLOW_DB_SSLMODE (optional)
  MLFLOW_DB_MASTER_USER, MLFLOW_DB_MASTER_PASSWORD   who may create roles (the RDS master)
  MLFLOW_DB_USER, MLFLOW_DB_PASSWORD                 MLflow's own user and its current password
Exit 0 with one JSON line on stdout; exit 1 with one JSON line naming what failed (never a password).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sys

SCRAM_ITERATIONS = 4096
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
REQUIRED = (
    "MLFLOW_DB_HOST",
    "MLFLOW_DB_MASTER_USER",
    "MLFLOW_DB_MASTER_PASSWORD",
    "MLFLOW_DB_USER",
    "MLFLOW_DB_PASSWORD",
)
# pg_class kinds handed over with ALTER <kind>; a table's own sequences follow their table.
CLASS_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}


def scram_verifier(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 / 7677)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def report(event: str, **fields: object) -> None:
    print(json.dumps({"service": "mlflow-db-bootstrap", "event": event, **fields}), flush=True)


def bootstrap(env: dict) -> dict:
    import psycopg2
    from psycopg2 import sql

    missing = [k for k in REQUIRED if not env.get(k)]
    if missing:
        raise ValueError(f"set {', '.join(missing)}")
    user = env["MLFLOW_DB_USER"]
    if not ROLE_NAME.match(user):
        raise ValueError("MLFLOW_DB_USER must be a lower-case PostgreSQL identifier")
    if user == env["MLFLOW_DB_MASTER_USER"]:
        raise ValueError("MLFLOW_DB_USER must not be the master user (that is what this avoids)")
    database = env.get("MLFLOW_DB_NAME") or "mlflow"
    params = {
        "host": env["MLFLOW_DB_HOST"],
        "port": int(env.get("MLFLOW_DB_PORT") or "5432"),
        "dbname": database,
        "user": env["MLFLOW_DB_MASTER_USER"],
        "password": env["MLFLOW_DB_MASTER_PASSWORD"],
        "connect_timeout": 30,
        "application_name": "mlflow-db-bootstrap",
    }
    if env.get("MLFLOW_DB_SSLMODE"):
        params["sslmode"] = env["MLFLOW_DB_SSLMODE"]
    verifier = scram_verifier(env["MLFLOW_DB_PASSWORD"], secrets.token_bytes(16))
    role = sql.Identifier(user)

    conn = psycopg2.connect(**params)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            created = cur.fetchone() is None
            verb = "CREATE ROLE {} WITH LOGIN PASSWORD {}" if created else "ALTER ROLE {} WITH LOGIN PASSWORD {}"
            cur.execute(sql.SQL(verb).format(role, sql.Literal(verifier)))
            cur.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), role))
            cur.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(role))
            # Handing objects over needs membership in the new owner (PostgreSQL 16 gives the role's
            # creator ADMIN on it, but not membership).
            cur.execute(
                "SELECT pg_has_role(current_user, %s, 'USAGE')", (user,)
            )
            if not cur.fetchone()[0]:
                cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
            cur.execute(
                """
                SELECT c.relname, c.relkind FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                                  AND d.classid = 'pg_class'::regclass AND c.relkind = 'S')
                ORDER BY c.relkind, c.relname
                """
            )
            moved = 0
            for name, kind in cur.fetchall():
                cur.execute(
                    sql.SQL("ALTER {} public.{} OWNER TO {}").format(sql.SQL(CLASS_KINDS[kind]), sql.Identifier(name), role)
                )
                moved += 1
            cur.execute(
                """
                SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = 'public' AND pg_get_userbyid(t.typowner) = current_user AND t.typtype IN ('e', 'd')
                ORDER BY t.typname
                """
            )
            for (name,) in cur.fetchall():
                cur.execute(sql.SQL("ALTER TYPE public.{} OWNER TO {}").format(sql.Identifier(name), role))
                moved += 1
    finally:
        conn.close()
    return {"user": user, "database": database, "created": created, "ownershipMoved": moved}


def main() -> int:
    try:
        result = bootstrap(dict(os.environ))
    except Exception as error:  # one line, the class and message only: never the environment
        report("mlflow-db-user-failed", error=f"{type(error).__name__}: {error}".strip())
        return 1
    report("mlflow-db-user-ready", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
