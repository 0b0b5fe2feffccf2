"""The benchmark's own database: which one, and creating it when it is missing."""

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo


def same_database(config: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(config.get(k) or "") == str(other.get(k) or "") for k in keys)


def create_database(config: Mapping[str, Any]) -> bool:
    """Create the benchmark database unless it exists; True if it was created."""
    params = {
        "dbname": "postgres",
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        return True
