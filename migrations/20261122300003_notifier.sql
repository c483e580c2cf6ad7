-- The notifier's own tables (schema `notifier`): derived from events, never read by the API.
--
-- * `processed_events`: event ids already handled. JetStream delivers at least once and its
--   de-duplication window is finite, so the notifier records every handled event id in the
--   same transaction as the rows the event produced, and acks only after the commit.
-- * `notifications`: one row per notification to send (an email or an SMS to one recipient).
--   Immediate ones are due at the event's time; reminders at start - offset; the follow-up at
--   end + delay; the owner's daily summary at the next local hour in the workspace's zone.
--   The id is deterministic (UUIDv5 of the cause, kind, recipient and channel), so a
--   redelivered event inserts nothing new, and it is also the id of the `notification-<id>`
--   stream where the outcome is recorded as an event (the durable "sent once" guard).
-- * `sms_opt_outs`: contacts who answered STOP (until they answer START).
-- * `dead_letters`: events set aside after failing repeatedly (the owner gets an alert; the
--   consumer never gets stuck). The payload is not copied: it is in the event store.

create schema notifier;

create table notifier.processed_events (
    event_id        uuid        primary key,
    processed_at    timestamptz not null default now()
);

-- Old ids are pruned; the notification streams still refuse a second send after that.
create index processed_events_at on notifier.processed_events (processed_at);

create table notifier.notifications (
    id              uuid        primary key,
    workspace_id    uuid        not null,
    kind            text        not null,            -- domain::notification::NotificationKind
    channel         text        not null check (channel in ('email', 'sms')),
    recipient_role  text        not null check (recipient_role in ('customer', 'owner', 'staff')),
    recipient_id    uuid,                            -- contact or user; resolved when sending
    subject_id      uuid        not null,            -- booking, item, user, form request, message, workspace
    cause_event_id  uuid        not null,
    -- Non-personal parameters of the kind (reminder offset, the start it was planned for, the
    -- summary's local date, the message id). Addresses and bodies are read when sending.
    details         jsonb       not null default '{}'::jsonb,
    -- A secret only this notification may show (an invited staff member's password), sealed
    -- under CAREOPS_SECRET_KEY and bound to the row id; cleared once sent or given up.
    secret_nonce    bytea,
    secret_sealed   bytea,
    due_at          timestamptz not null,
    status          text        not null default 'pending'
                                check (status in ('pending', 'sent', 'failed', 'skipped')),
    attempts        integer     not null default 0,
    -- When a dispatcher may take it next: the due time, a retry's time after backoff, or the
    -- end of the lease of the replica that claimed it (a crashed replica's claim expires).
    next_attempt_at timestamptz not null,
    claim_token     uuid,                            -- the current claim; fences late writers
    provider        text,
    last_error      text,                            -- no personal data
    created_at      timestamptz not null default now(),
    finished_at     timestamptz
);

comment on table notifier.notifications is
    'Pending and finished notifications of the notifier; derived from events, claimed with FOR UPDATE SKIP LOCKED.';

-- The dispatcher's due query: pending rows in time order. Only pending rows are indexed, so
-- finished history does not slow it down.
create index notifications_due on notifier.notifications (next_attempt_at) where status = 'pending';
-- Moving or dropping a booking's timers, replanning a workspace's daily summary.
create index notifications_subject_pending on notifier.notifications (subject_id, kind)
    where status = 'pending';
create index notifications_workspace_pending on notifier.notifications (workspace_id, kind)
    where status = 'pending';

create table notifier.sms_opt_outs (
    contact_id      uuid        primary key,
    workspace_id    uuid        not null,
    opted_out_at    timestamptz not null
);

create table notifier.dead_letters (
    event_id        uuid        primary key,
    workspace_id    uuid,
    subject         text        not null,
    deliveries      bigint      not null,
    error           text        not null,
    created_at      timestamptz not null default now()
);

revoke all on schema notifier from public;
