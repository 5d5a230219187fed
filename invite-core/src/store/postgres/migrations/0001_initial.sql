-- invite-core PostgreSQL schema, version 1.
--
-- Conventions:
-- * ids are uuid (time-ordered, minted by the service); timestamps are timestamptz.
-- * counts are bigint with CHECK (>= 0): the Rust side holds them as u32.
-- * `xact` is the id of the last transaction that wrote the row. On a unique conflict
--   it tells a row the writer could have seen (ALREADY_EXISTS) from one committed by a
--   concurrent first-writer (STORAGE_CONFLICT, so the service retries and re-reads).
-- * `version` (invitations, outbox) is bumped by every update: an update made from a
--   stale read is refused (optimistic concurrency, STORAGE_CONFLICT).
-- * no foreign keys: like every store, referential checks are the service's, and FK
--   checks would take share locks on the hot subscription row.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text NOT NULL,
    email_key   text NOT NULL UNIQUE,
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    created_at  timestamptz NOT NULL,
    xact        xid8 NOT NULL DEFAULT pg_current_xact_id()
);

-- The user search index: one row per (folded key, user); byte order like Rust strings.
CREATE TABLE user_search_keys (
    key      text COLLATE "C" NOT NULL,
    user_id  uuid NOT NULL,
    PRIMARY KEY (key, user_id)
);
CREATE INDEX user_search_keys_user ON user_search_keys (user_id);

CREATE TABLE businesses (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE apps (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE business_apps (
    business_id  uuid NOT NULL,
    app_id       uuid NOT NULL,
    PRIMARY KEY (business_id, app_id)
);

CREATE TABLE business_admins (
    business_id  uuid NOT NULL,
    user_id      uuid NOT NULL,
    PRIMARY KEY (business_id, user_id)
);
CREATE INDEX business_admins_user ON business_admins (user_id, business_id);

-- Seat counters are columns of the subscription row: `SELECT … FOR UPDATE` on it is the
-- lock that keeps `seats_used + seats_reserved <= seats`.
CREATE TABLE subscriptions (
    id              uuid PRIMARY KEY,
    business_id     uuid NOT NULL,
    app_id          uuid NOT NULL,
    plan            text NOT NULL,
    seats           bigint CHECK (seats >= 0),
    status          text NOT NULL,
    valid_from      timestamptz,
    valid_until     timestamptz,
    created_at      timestamptz NOT NULL,
    seats_used      bigint NOT NULL DEFAULT 0 CHECK (seats_used >= 0),
    seats_reserved  bigint NOT NULL DEFAULT 0 CHECK (seats_reserved >= 0)
);
CREATE INDEX subscriptions_business ON subscriptions (business_id, app_id, id);

CREATE TABLE roles (
    id           uuid PRIMARY KEY,
    app_id       uuid NOT NULL,
    key          text NOT NULL,
    name         text NOT NULL,
    permissions  text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    xact         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (app_id, key)
);

CREATE TABLE memberships (
    id               uuid PRIMARY KEY,
    business_id      uuid NOT NULL,
    subscription_id  uuid NOT NULL,
    app_id           uuid NOT NULL,
    user_id          uuid NOT NULL,
    role_id          uuid NOT NULL,
    created_at       timestamptz NOT NULL,
    xact             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (subscription_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, id);
CREATE INDEX memberships_business ON memberships (business_id, subscription_id, id);

CREATE TABLE invitations (
    id                   uuid PRIMARY KEY,
    business_id          uuid NOT NULL,
    app_id               uuid NOT NULL,
    subscription_id      uuid NOT NULL,
    role_id              uuid NOT NULL,
    invitee_user_id      uuid,
    invitee_first_name   text,
    invitee_last_name    text,
    email                text NOT NULL,
    email_key            text NOT NULL,
    inviter_id           uuid NOT NULL,
    status               text NOT NULL,
    locale               text,
    created_at           timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    last_sent_at         timestamptz NOT NULL,
    send_count           bigint NOT NULL CHECK (send_count >= 0),
    responded_at         timestamptz,
    accepted_user_id     uuid,
    delivery_state       text NOT NULL,
    delivery_attempts    bigint NOT NULL CHECK (delivery_attempts >= 0),
    delivery_last_error  text,
    delivered_at         timestamptz,
    token_hash           bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    version              bigint NOT NULL DEFAULT 1,
    xact                 xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((invitee_user_id IS NULL) = (invitee_first_name IS NOT NULL)),
    CHECK ((invitee_first_name IS NULL) = (invitee_last_name IS NULL))
);
-- DESIGN.md invariant 2: concurrent sends cannot both insert a pending invitation.
CREATE UNIQUE INDEX invitations_one_pending
    ON invitations (business_id, subscription_id, email_key) WHERE status = 'pending';
CREATE INDEX invitations_pending_expiry
    ON invitations (expires_at, id) WHERE status = 'pending';
CREATE INDEX invitations_pending_subscription
    ON invitations (subscription_id) WHERE status = 'pending';
CREATE INDEX invitations_business ON invitations (business_id, id);
CREATE INDEX invitations_inviter ON invitations (inviter_id, created_at);

CREATE TABLE events (
    id             uuid PRIMARY KEY,
    business_id    uuid NOT NULL,
    invitation_id  uuid NOT NULL,
    kind           text NOT NULL,
    actor_id       uuid,
    at             timestamptz NOT NULL,
    detail         text
);
CREATE INDEX events_invitation ON events (invitation_id, id);
CREATE INDEX events_business ON events (business_id, id);

CREATE TABLE outbox (
    id               uuid PRIMARY KEY,
    business_id      uuid NOT NULL,
    invitation_id    uuid NOT NULL,
    sealed_token     text,
    state            text NOT NULL,
    attempts         bigint NOT NULL CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    version          bigint NOT NULL DEFAULT 1
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_invitation ON outbox (invitation_id, id);

CREATE TABLE idempotency_keys (
    business_id  uuid NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    result       text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    xact         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (business_id, key)
);
