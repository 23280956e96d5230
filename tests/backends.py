"""`python -m tests.backends postgres|redis URL`: exit 0 when that service answers."""

import sys


def reachable(kind: str, url: str) -> bool:
    try:
        if kind == "postgres":
            import psycopg

            with psycopg.connect(url, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
        else:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


if __name__ == "__main__":
    sys.exit(0 if reachable(sys.argv[1], sys.argv[2]) else 1)
