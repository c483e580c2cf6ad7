-- The event store: one append-only table of every event of every workspace.
--
-- Ordering rule (read DESIGN.md "Event store"): identity values become visible out of
-- order under concurrent writers, so readers never checkpoint on `position` alone.
-- They read `(tx, position) > checkpoint AND tx < pg_snapshot_xmin(pg_current_snapshot())`
-- in `(tx, position)` order, which never skips a committed event and needs no global
-- lock on the write path.

create table events (
    position        bigint      generated always as identity primary key,
    -- The writing transaction's id; a 64-bit xid8 never wraps around.
    tx              xid8        not null default pg_current_xact_id(),
    event_id        uuid        not null unique,
    workspace_id    uuid        not null,
    stream_type     text        not null,
    stream_id       text        not null,
    stream_version  bigint      not null check (stream_version > 0),
    event_type      text        not null,
    schema_version  integer     not null check (schema_version > 0),
    data            jsonb       not null,
    -- actor, correlation id, causation id, request id
    metadata        jsonb       not null default '{}'::jsonb,
    recorded_at     timestamptz not null default now(),
    -- Optimistic concurrency: two writers of the same version of a stream clash here.
    constraint events_stream_version_unique unique (stream_id, stream_version)
);

comment on table events is 'Append-only event log; see migrations/README or DESIGN.md';

-- The ordered global feed.
create index events_tx_position on events (tx, position);
-- The audit trail: a workspace's events newest first, optionally of one stream or type.
create index events_workspace_position on events (workspace_id, position desc);
create index events_workspace_type_position on events (workspace_id, event_type, position desc);
create index events_workspace_actor_position on events (workspace_id, ((metadata ->> 'actor_id')), position desc);

-- Append-only: rows are never changed or removed (personal data is crypto-shredded instead).
create function events_reject_change() returns trigger
language plpgsql as $$
begin
    raise exception 'the events table is append-only (% rejected)', tg_op
        using errcode = 'restrict_violation';
end;
$$;

create trigger events_no_update_or_delete
    before update or delete on events
    for each row execute function events_reject_change();

create trigger events_no_truncate
    before truncate on events
    for each statement execute function events_reject_change();

-- Checkpoints of ordered-feed readers (the NATS relay; projections keep their own).
create table feed_checkpoints (
    name        text        primary key,
    tx          xid8        not null default '0'::xid8,
    position    bigint      not null default 0,
    updated_at  timestamptz not null default now()
);
