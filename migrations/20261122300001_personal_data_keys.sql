-- Crypto-shredding (DESIGN.md "Event store"): personal fields of events are encrypted with
-- one key per data subject (a contact or a user). The events table stays append-only;
-- erasing a subject destroys its key, after which every reader (stream reads, the feed, the
-- audit trail, the NATS relay, a projection rebuild) shows those fields as {"erased": true}.
--
-- This table is the only mutable part of the log's storage and the only place a key ever
-- lives. Erasure does not delete the row but empties it (`key = null`, `erased_at` set): the
-- row is the subject's tombstone. A deleted row would let a later append, or one racing the
-- erasure (its `insert ... on conflict do nothing` waits on the deleting transaction and
-- then finds no row), quietly create a fresh key and store new personal data of someone who
-- was erased. With the tombstone such an append is refused (see event-store's docs).
--
-- The destroyed key still exists in older row versions until VACUUM removes them, and in
-- WAL archives and backups until they age out: erasure is complete when those have.

create table personal_data_keys (
    subject_id    uuid        primary key,
    workspace_id  uuid        not null,
    -- 32 random bytes (AES-256-GCM); null once the subject was erased.
    key           bytea       check (key is null or octet_length(key) = 32),
    created_at    timestamptz not null default now(),
    erased_at     timestamptz,
    constraint personal_data_keys_erased_has_no_key check ((key is null) = (erased_at is not null))
);

comment on table personal_data_keys is
    'Per-data-subject encryption keys of personal event fields; erasure nulls the key (crypto-shredding)';

-- The erased subjects, for the relay's sweep of their published messages.
create index personal_data_keys_erased on personal_data_keys (subject_id) where key is null;

-- Erased rows are vacuumed eagerly so the old row version holding the key goes soon.
alter table personal_data_keys set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1);

-- Keys are for the event store only. The read-model query role (careops_reader, see the read
-- models migration) reads projections, never keys: nothing is granted to it or to PUBLIC.
revoke all on personal_data_keys from public;
do $$
begin
    execute 'revoke all on personal_data_keys from careops_reader';
exception when undefined_object then
    null;
end;
$$;

-- The NATS relay remembers which JetStream messages carried a subject's encrypted fields, so
-- that it can delete them from the stream once the subject is erased: a subscriber replaying
-- CAREOPS_EVENTS later must not find the personal data there either (CONTRACT.md "NATS").
create table relay_personal_messages (
    subject_id    uuid        not null,
    stream_name   text        not null,
    sequence      bigint      not null,
    primary key (subject_id, stream_name, sequence)
);
revoke all on relay_personal_messages from public;
