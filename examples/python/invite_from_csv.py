"""Invite people from a CSV file (first name, last name, email), one result per row.

The rows go through bulk sends of up to `MAX_BULK_ROWS` (10,000) rows each: one
transaction per chunk, seats counted across it, and a row that fails (bad email,
already invited, no seat left, ...) fails alone.

    python examples/python/invite_from_csv.py people.csv --demo
    python examples/python/invite_from_csv.py people.csv --store sqlite:invites.db \\
        --inviter grace@acme.example --business Acme --app CRM --plan Team --role member

`--demo` first creates a small catalog (Acme, CRM, a Team plan with `--seats` seats, a
`member` role and the admin grace@acme.example) in the store. Exit status: 0 when every
row was sent, 2 when some rows failed, 1 when nothing could be sent.

The emails wait in the store's outbox for the process that delivers them (your app
server's `dispatch_outbox`). With a durable store, give both the same outbox key
(`--outbox-key` or `INVITE_OUTBOX_KEY`, 64 hex digits): the tokens in queued emails are
sealed with it, and a process with another key cannot send them.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from invite_core import MAX_BULK_ROWS, Config, InviteError, InviteService, Limits


def read_rows(path: Path) -> list[dict[str, str | None]]:
    """The CSV's rows as bulk-send rows; a header row (mentioning "email") is skipped."""
    rows: list[dict[str, str | None]] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        for i, record in enumerate(csv.reader(f)):
            if not any(cell.strip() for cell in record):
                continue
            if i == 0 and any("email" in cell.lower() for cell in record):
                continue
            first, last, email = (record + ["", "", ""])[:3]
            rows.append({"first_name": first, "last_name": last, "email": email})
    return rows


def seed_demo(service: InviteService, seats: int) -> None:
    """A catalog to try the example on an empty store."""
    acme = service.create_business("Acme")
    crm = service.create_app("CRM")
    service.set_app_enabled(acme.id, crm.id)
    service.create_subscription(acme.id, crm.id, plan="Team", seats=seats)
    service.create_role(crm.id, "member", "Member", ["records.read"])
    grace = service.create_user("Grace", "Hopper", "grace@acme.example")
    service.set_business_admin(acme.id, grace.id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", type=Path, help="CSV file: first name, last name, email")
    parser.add_argument("--store", default="memory:", help="store URL (default: memory:)")
    parser.add_argument("--base-url", default="https://app.example.com/invitations/accept")
    parser.add_argument("--inviter", default="grace@acme.example", help="inviter's email")
    parser.add_argument("--business", default="Acme")
    parser.add_argument("--app", default="CRM")
    parser.add_argument("--plan", default="Team", help="the subscription's plan name")
    parser.add_argument("--role", default="member", help="the role's key")
    parser.add_argument("--demo", action="store_true", help="create a demo catalog first")
    parser.add_argument("--seats", type=int, default=10, help="seats of the demo plan")
    parser.add_argument(
        "--outbox-key",
        default=os.environ.get("INVITE_OUTBOX_KEY"),
        help="64 hex digits, the outbox key of the process that delivers the emails",
    )
    args = parser.parse_args(argv)
    try:
        outbox_key = bytes.fromhex(args.outbox_key) if args.outbox_key else None
    except ValueError:
        parser.error("--outbox-key must be 64 hex digits")
    if outbox_key is not None and len(outbox_key) != 32:
        parser.error("--outbox-key must be 64 hex digits")

    config = Config(args.base_url, limits=Limits(invites_per_inviter_per_day=None))
    try:
        service = InviteService(args.store, config=config, outbox_key=outbox_key)
        if args.demo:
            seed_demo(service, args.seats)
    except InviteError as e:  # a bad store URL, or --demo on a store seeded already
        print(f"error: {e.code}: {e}", file=sys.stderr)
        return 1
    try:
        inviter = service.find_user_by_email(args.inviter)
        business = next(b for b in service.list_businesses() if b.name == args.business)
        app = next(a for a in service.list_apps() if a.name == args.app)
        plan = next(
            o.subscription
            for o in service.subscriptions_for(business.id, app.id)
            if o.subscription.plan == args.plan
        )
        role = next(r for r in service.list_roles(app.id) if r.key == args.role)
    except StopIteration:
        print("error: business, app, plan or role not found", file=sys.stderr)
        return 1
    if inviter is None:
        print(f"error: no user with email {args.inviter}", file=sys.stderr)
        return 1

    rows = read_rows(args.csv)
    seats = service.seat_usage(business.id, plan.id)
    free = "unlimited" if seats.available is None else str(seats.available)
    print(f"inviting {len(rows)} people into {business.name} / {app.name} / {plan.plan} "
          f"as {role.name} ({free} seats free)")
    results = []
    refused: InviteError | None = None
    # One call takes at most MAX_BULK_ROWS rows (one transaction each): the chunks
    # committed before a refused one stay sent.
    for start in range(0, len(rows), MAX_BULK_ROWS):
        try:
            chunk = service.bulk_send(
                inviter.id,
                rows[start : start + MAX_BULK_ROWS],
                business_id=business.id,
                app_id=app.id,
                subscription_id=plan.id,
                role_id=role.id,
            )
        except InviteError as e:  # the shared fields or the inviter's rights
            refused = e
            break
        results.extend(chunk.rows)
    for number, (row, fields) in enumerate(zip(results, rows), start=1):
        who = fields["email"] or "(no email)"
        if row.sent is not None:
            print(f"row {number}: {who}: sent, link {row.sent.accept_link}")
        elif row.error is not None:
            # Field names are the chunk's (`rows[3].email`): the row number says which.
            problems = "; ".join(
                f"{e['field'].partition('.')[2] or e['field']} {e['code']}"
                for e in row.error.errors
            )
            print(f"row {number}: {who}: {row.error.code} {problems or row.error.message}")
    sent = sum(1 for row in results if row.sent is not None)
    failed = len(rows) - sent
    if refused is not None:
        print(
            f"error: {refused.code}: {refused.message} (rows {len(results) + 1} to"
            f" {len(rows)} were not sent)",
            file=sys.stderr,
        )
    print(f"{sent} sent, {failed} failed")
    if failed == 0:
        return 0
    return 2 if sent else 1

if __name__ == "__main__":
    sys.exit(main())
