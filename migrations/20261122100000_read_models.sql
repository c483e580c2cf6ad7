-- Read models (the query side), built by the `projections` crate from the ordered feed.
--
-- Layout: one schema per projection, `rm_<name>`, holding only that projection's tables.
-- `projections rebuild <name>` builds a fresh copy in `rm_<name>__rebuild` while the live
-- schema keeps serving, then swaps the two schemas in one transaction. So the tables are
-- not created here directly but by one function per projection, `rm_create_<name>(schema)`,
-- which this migration calls for the live schema and the rebuild calls for the fresh one.
-- A later change of a read model adds a migration that replaces its function (and
-- upgrades or rebuilds the live schema); this file is never edited once landed.
--
-- Tenant isolation (DESIGN.md "Security"): every table carries `workspace_id` and has
-- row-level security. Queries run `set local role careops_reader` and
-- `set_config('careops.workspace_id', <id>, true)` in their transaction; the policy lets
-- that role see only rows of that workspace, so a query that forgets its workspace
-- filter still sees one tenant. RLS is enabled and forced (it applies to the table owner
-- too, should the application connect as the owner rather than a superuser), so a second
-- policy lets every role *other than* careops_reader read and write everything: that is
-- the projection runner, which writes the rows of every workspace. A superuser bypasses
-- RLS entirely, which is why queries switch role instead of relying on the connection.
--
-- Each projection's checkpoint lives in `feed_checkpoints` under `projection:<name>`.

-- The query role. Roles are cluster-wide (several databases, e.g. per-test databases,
-- share them), so it is created only when missing.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'careops_reader') then
        create role careops_reader nologin;
    end if;
exception when duplicate_object or unique_violation then
    -- Another database's migration created it concurrently.
    null;
end;
$$;

-- The connecting user must be able to `set role careops_reader`.
do $$
begin
    execute format('grant careops_reader to %I', current_user);
exception when others then
    -- Already a member, or a superuser (who may set any role).
    null;
end;
$$;

-- Applies tenant isolation and read grants to every table of a read-model schema.
create function rm_protect(schema_name text) returns void
language plpgsql as $$
declare
    t record;
begin
    execute format('grant usage on schema %I to careops_reader', schema_name);
    for t in
        select c.relname
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = schema_name and c.relkind = 'r'
    loop
        execute format('alter table %I.%I enable row level security', schema_name, t.relname);
        execute format('alter table %I.%I force row level security', schema_name, t.relname);
        execute format(
            'create policy tenant_read on %I.%I for select to careops_reader
               using (workspace_id = nullif(current_setting(''careops.workspace_id'', true), '''')::uuid)',
            schema_name, t.relname);
        execute format(
            'create policy projection_writer on %I.%I for all to public
               using (current_user <> ''careops_reader'')
               with check (current_user <> ''careops_reader'')',
            schema_name, t.relname);
        execute format('grant select on %I.%I to careops_reader', schema_name, t.relname);
    end loop;
end;
$$;

-- Workspaces: profile, settings, activation; the public booking page looks them up by slug.
create function rm_create_workspaces(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.workspaces (
            workspace_id    uuid primary key,
            name            text not null,
            slug            text not null,
            timezone        text not null,
            currency        text not null,
            owner_id        uuid not null,
            settings        jsonb not null,
            business_email  text,
            business_phone  text,
            is_active       boolean not null default false,
            created_at      timestamptz not null,
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.workspaces (slug)', s);
    perform rm_protect(s);
end;
$$;

-- Staff (every user, the owner included) and their weekly availability and exceptions.
create function rm_create_staff(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.staff (
            workspace_id    uuid not null,
            user_id         uuid primary key,
            role            text not null,          -- owner | staff
            name            text,                   -- null once erased
            email           text,
            permissions     jsonb not null,
            active          boolean not null,
            created_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.staff (workspace_id, created_at, user_id)', s);
    execute format($t$
        create table %I.availability (
            workspace_id    uuid not null,
            staff_id        uuid primary key,
            weekly          jsonb not null,         -- [{weekday, start, end}]
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format($t$
        create table %I.availability_exceptions (
            workspace_id    uuid not null,
            staff_id        uuid not null,
            date            date not null,
            hours           jsonb not null,         -- "closed" | {"open": [{start, end}]}
            primary key (staff_id, date)
        )$t$, s);
    perform rm_protect(s);
end;
$$;

-- The services catalogue.
create function rm_create_services(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.services (
            workspace_id            uuid not null,
            id                      uuid primary key,
            name                    text not null,
            duration_minutes        integer not null,
            price_cents             bigint not null,
            currency                text not null,
            buffer_before_minutes   integer not null,
            buffer_after_minutes    integer not null,
            inventory               jsonb not null,  -- [{item_id, quantity}]
            archived                boolean not null default false,
            created_at              timestamptz not null,
            updated_at              timestamptz not null,
            version                 bigint not null
        )$t$, s);
    execute format('create index on %I.services (workspace_id, created_at, id)', s);
    perform rm_protect(s);
end;
$$;

-- The bookings calendar. "Today" and other local days are computed at query time in the
-- workspace's current zone, so no local date is stored.
create function rm_create_bookings(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.bookings (
            workspace_id    uuid not null,
            id              uuid primary key,
            status          text not null,          -- pending | confirmed | cancelled | completed | no_show
            service_id      uuid not null,
            staff_id        uuid not null,
            contact_id      uuid not null,
            start_at        timestamptz not null,
            end_at          timestamptz not null,
            price_cents     bigint not null,
            currency        text not null,
            notes           text,                   -- personal: null once the contact is erased
            source          text not null,          -- public | staff
            created_at      timestamptz not null,
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.bookings (workspace_id, start_at, id)', s);
    execute format('create index on %I.bookings (workspace_id, staff_id, start_at)', s);
    execute format('create index on %I.bookings (contact_id)', s);
    perform rm_protect(s);
end;
$$;

-- Contacts. Erasure blanks the personal columns and keeps the row (anonymous totals).
create function rm_create_contacts(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.contacts (
            workspace_id    uuid not null,
            id              uuid primary key,
            name            text,
            email           text,
            phone           text,
            erased          boolean not null default false,
            created_at      timestamptz not null,
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.contacts (workspace_id, created_at, id)', s);
    perform rm_protect(s);
end;
$$;

-- The inbox: conversations and their messages.
create function rm_create_inbox(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.conversations (
            workspace_id        uuid not null,
            id                  uuid primary key,
            contact_id          uuid not null,
            channel             text not null,      -- email | sms
            assignee            uuid,
            closed              boolean not null default false,
            last_direction      text,               -- inbound | outbound
            -- The first inbound message not yet answered (null when answered).
            unanswered_since    timestamptz,
            last_message_at     timestamptz,
            message_count       integer not null default 0,
            created_at          timestamptz not null,
            updated_at          timestamptz not null,
            version             bigint not null
        )$t$, s);
    execute format('create index on %I.conversations (workspace_id, created_at, id)', s);
    execute format('create index on %I.conversations (contact_id)', s);
    execute format($t$
        create table %I.messages (
            workspace_id        uuid not null,
            id                  uuid primary key,
            conversation_id     uuid not null,
            contact_id          uuid not null,
            channel             text not null,
            direction           text not null,
            body                text,               -- personal: null once erased
            sent_by             uuid,
            at                  timestamptz not null,
            feed_position       bigint not null     -- stable order of messages at the same instant
        )$t$, s);
    execute format('create index on %I.messages (conversation_id, at, feed_position)', s);
    execute format('create index on %I.messages (contact_id)', s);
    perform rm_protect(s);
end;
$$;

-- Inventory items with their current stock.
create function rm_create_inventory(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.items (
            workspace_id    uuid not null,
            id              uuid primary key,
            name            text not null,
            unit            text not null,
            quantity        bigint not null,
            threshold       bigint not null,
            last_alert_at   timestamptz,
            created_at      timestamptz not null,
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.items (workspace_id, created_at, id)', s);
    perform rm_protect(s);
end;
$$;

-- Form templates and form requests (pending or submitted, with the answers).
create function rm_create_forms(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.templates (
            workspace_id    uuid not null,
            id              uuid primary key,
            name            text not null,
            fields          jsonb not null,
            created_at      timestamptz not null,
            updated_at      timestamptz not null,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.templates (workspace_id, created_at, id)', s);
    execute format($t$
        create table %I.requests (
            workspace_id    uuid not null,
            id              uuid primary key,
            template_id     uuid not null,
            contact_id      uuid not null,
            booking_id      uuid,
            status          text not null,          -- pending | submitted
            answers         jsonb,                  -- personal: null once erased
            requested_at    timestamptz not null,
            submitted_at    timestamptz,
            version         bigint not null
        )$t$, s);
    execute format('create index on %I.requests (workspace_id, requested_at, id)', s);
    execute format('create index on %I.requests (contact_id)', s);
    perform rm_protect(s);
end;
$$;

-- Stored alerts (low stock now; failed notifications when the notifier records them) and
-- dismissals. Time-based alerts (unanswered > 24 h, forms overdue) are computed at query
-- time from the inbox and forms read models; their ids are derived from their subject, so
-- a dismissal can refer to them as well.
create function rm_create_alerts(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.alerts (
            workspace_id    uuid not null,
            id              uuid primary key,       -- the id of the event that raised it
            kind            text not null,          -- low_stock | notification_failed | ...
            severity        text not null,          -- info | warning | critical
            message         text not null,
            subject_id      uuid,
            created_at      timestamptz not null,
            resolved_at     timestamptz             -- the condition ended (e.g. restocked)
        )$t$, s);
    execute format('create index on %I.alerts (workspace_id, created_at, id)', s);
    execute format('create index on %I.alerts (subject_id)', s);
    execute format($t$
        create table %I.dismissals (
            workspace_id    uuid not null,
            alert_id        uuid primary key,
            dismissed_at    timestamptz not null
        )$t$, s);
    -- Inventory item names, for alert messages (a projection reads only its own tables).
    execute format($t$
        create table %I.item_names (
            workspace_id    uuid not null,
            id              uuid primary key,
            name            text not null
        )$t$, s);
    perform rm_protect(s);
end;
$$;

select rm_create_workspaces('rm_workspaces');
select rm_create_staff('rm_staff');
select rm_create_services('rm_services');
select rm_create_bookings('rm_bookings');
select rm_create_contacts('rm_contacts');
select rm_create_inbox('rm_inbox');
select rm_create_inventory('rm_inventory');
select rm_create_forms('rm_forms');
select rm_create_alerts('rm_alerts');

-- What each projection runner reports about itself (for GET /admin/projections).
create table projection_runs (
    name        text primary key,
    status      text not null,                  -- running | standby | failing | stopped
    last_error  text,
    updated_at  timestamptz not null default now()
);
