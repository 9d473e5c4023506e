"""What bench/loadtest.py measures and checks after a run: Locust's statistics, the ledger of
acknowledged swipes against the database, and the tables for docs/BENCHMARKS.md."""

import csv
import json
from pathlib import Path


def stats(prefix: Path, seconds: float) -> dict[str, dict]:
    """Rows of Locust's stats CSV by request name (and "Aggregated")."""
    rows = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            count = int(row["Request Count"])
            rows[row["Name"]] = {
                "count": count,
                "failures": int(row["Failure Count"]),
                "rps": count / seconds,
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    return rows


def check_ledger(database_url: str, ledger: Path) -> dict:
    import psycopg2

    people = [json.loads(line) for line in ledger.read_text().splitlines() if line]
    connection = psycopg2.connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.key, s.photo_id, s.direction FROM users_swipe s "
            "JOIN authtoken_token t ON t.user_id = s.user_id"
        )
        stored: dict[str, dict[int, str]] = {}
        for token, photo, direction in cursor.fetchall():
            stored.setdefault(token, {})[photo] = direction
        cursor.execute("SELECT count(*) FROM users_swipe")
        total_rows = cursor.fetchone()[0]
    connection.close()
    dropped = wrong = unexplained = acknowledged = unknown = 0
    for person in people:
        mine = stored.pop(person["token"], {})
        sent = {int(photo): direction for photo, direction in person["swipes"].items()}
        maybe = set(person["unacknowledged"])
        acknowledged += len(sent)
        unknown += len(maybe)
        for photo, direction in sent.items():
            if photo not in mine:
                dropped += 1
            elif mine[photo] != direction:
                wrong += 1
        unexplained += len(set(mine) - set(sent) - maybe)
    unexplained += sum(len(rows) for rows in stored.values())  # people with no ledger line
    return {
        "people": len(people),
        "acknowledged": acknowledged,
        "rows": total_rows,
        "unacknowledged": unknown,
        "dropped": dropped,
        "wrong_direction": wrong,
        "unexplained_rows": unexplained,
    }


def table(rows: list[tuple]) -> None:
    print(
        "| people | req/s | swipes/s | p50 ms | p95 ms | p99 ms | swipe p50/p95/p99 ms | errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for users, stats in rows:
        total, swipe = stats["Aggregated"], stats.get("POST /swipes/", {})
        errors = total["failures"] / max(1, total["count"])
        print(
            f"| {users} | {total['rps']:.0f} | {swipe.get('rps', 0):.0f} | {total['p50']:.0f} "
            f"| {total['p95']:.0f} | {total['p99']:.0f} | {swipe.get('p50', 0):.0f}/"
            f"{swipe.get('p95', 0):.0f}/{swipe.get('p99', 0):.0f} | {errors:.2%} |"
        )
