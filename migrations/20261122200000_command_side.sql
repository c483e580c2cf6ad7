-- Command-side tables: what commands need besides the event log, and what must never be
-- in an event (password hashes, refresh tokens, one-time secrets).

-- Finding a workspace's streams of one type (its services, its staff) for decisions that
-- span them, such as activation and automatic staff choice.
create index events_workspace_stream_type on events (workspace_id, stream_type, stream_id);

-- Login credentials, one row per user. The user's profile and permissions are events
-- (`user-<id>` stream); only the secret and the lookup by email live here.
create table credentials (
    user_id        uuid        primary key,
    workspace_id   uuid        not null,
    email          text        not null unique,   -- lower-cased
    password_hash  text        not null,           -- argon2id PHC string
    -- Mirrors of the user stream, checked on every request so that a permission change or
    -- a deactivation takes effect at once rather than when the access token expires.
    role           text        not null check (role in ('owner', 'staff')),
    permissions    jsonb       not null,
    active         boolean     not null default true,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

-- Refresh tokens, stored hashed. A login starts a family; each refresh spends one token and
-- issues the next in the same family. Presenting a spent token means it was stolen or
-- replayed: the whole family is revoked.
create table refresh_tokens (
    token_hash   bytea       primary key,          -- sha-256 of the opaque token
    family_id    uuid        not null,
    user_id      uuid        not null references credentials (user_id),
    issued_at    timestamptz not null default now(),
    expires_at   timestamptz not null,
    spent_at     timestamptz,
    revoked_at   timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_user on refresh_tokens (user_id);

-- Idempotency-Key records: the first response to a keyed POST, replayed for retries.
create table idempotency_records (
    scope          text        not null,           -- workspace or client scope of the key
    key            text        not null,
    request_hash   bytea       not null,           -- method, path and body
    status         smallint    not null,
    headers        jsonb       not null default '{}'::jsonb,
    body           bytea       not null,
    created_at     timestamptz not null default now(),
    primary key (scope, key)
);
create index idempotency_records_created on idempotency_records (created_at);

-- The generated password of an invited staff member, handed over to the notifier that
-- emails it: encrypted (AES-256-GCM, key from CAREOPS_SECRET_KEY), read once and deleted,
-- and expiring. It never enters an event, a response or a log line.
create table staff_invitation_secrets (
    user_id      uuid        primary key,
    workspace_id uuid        not null,
    nonce        bytea       not null,
    ciphertext   bytea       not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);

-- The customer's link to manage a public booking: the token is only in the confirmation
-- (response and email); we keep its hash.
create table booking_manage_tokens (
    booking_id   uuid        primary key,
    token_hash   bytea       not null,
    created_at   timestamptz not null default now()
);
