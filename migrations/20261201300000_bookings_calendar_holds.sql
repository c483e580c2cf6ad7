-- The bookings read model also records what each booking holds in its staff member's
-- calendar: the buffers booked with it and the local dates of the calendar streams that hold
-- its reservation. The public availability query needs them to compute free slots from the
-- read models alone (DESIGN.md: queries read only read models) exactly as the command side
-- does from the calendar streams: a booking that is not cancelled holds
-- [start - buffer_before, end + buffer_after] on every one of its `calendar_dates`
-- (cancelling releases them all; rescheduling moves them, keeping the buffers).
--
-- `calendar_dates` are the keys the booking was recorded under (local dates in the zone the
-- workspace had then), not dates recomputed from the current zone, so the read model says
-- what the calendar streams say even after a change of time zone.

create or replace function rm_create_bookings(s text) returns void
language plpgsql as $$
begin
    execute format('create schema %I', s);
    execute format($t$
        create table %I.bookings (
            workspace_id            uuid not null,
            id                      uuid primary key,
            status                  text not null,      -- pending | confirmed | cancelled | completed | no_show
            service_id              uuid not null,
            staff_id                uuid not null,
            contact_id              uuid not null,
            start_at                timestamptz not null,
            end_at                  timestamptz not null,
            price_cents             bigint not null,
            currency                text not null,
            notes                   text,               -- personal: null once the contact is erased
            source                  text not null,      -- public | staff
            created_at              timestamptz not null,
            updated_at              timestamptz not null,
            version                 bigint not null,
            buffer_before_minutes   integer not null,   -- as booked (a later service change keeps them)
            buffer_after_minutes    integer not null,
            calendar_dates          date[] not null     -- calendar streams holding the reservation
        )$t$, s);
    execute format('create index on %I.bookings (workspace_id, start_at, id)', s);
    execute format('create index on %I.bookings (workspace_id, staff_id, start_at)', s);
    execute format('create index on %I.bookings (contact_id)', s);
    perform rm_protect(s);
end;
$$;

-- The live table. The defaults only keep a projection of the previous release working while
-- a rolling deploy replaces it (rows it writes then lack their holds until the rebuild that
-- follows every read-model change, see deploy/README.md).
alter table rm_bookings.bookings
    add column buffer_before_minutes integer not null default 0,
    add column buffer_after_minutes integer not null default 0,
    add column calendar_dates date[] not null default '{}';

-- Backfill from the events the projection has applied so far (up to its checkpoint, in feed
-- order), so the live rows are what the new projection code would have built: the buffers
-- from BookingCreated, the dates from the latest BookingCreated or BookingRescheduled.
-- Neither field is personal data, so the payloads hold them in clear.
with applied as (
    select e.stream_id, e.stream_version, e.event_type, e.data
    from events e, feed_checkpoints c
    where c.name = 'projection:bookings'
      and e.stream_type = 'booking'
      and e.event_type in ('BookingCreated', 'BookingRescheduled')
      and (e.tx, e.position) <= (c.tx, c.position)
),
created as (
    select stream_id, (data ->> 'buffer_before_minutes')::integer as before_minutes,
           (data ->> 'buffer_after_minutes')::integer as after_minutes
    from applied where event_type = 'BookingCreated'
),
latest_dates as (
    select distinct on (stream_id) stream_id,
           array(select jsonb_array_elements_text(data -> 'calendar_dates')::date) as dates
    from applied
    order by stream_id, stream_version desc
)
update rm_bookings.bookings b
set buffer_before_minutes = created.before_minutes,
    buffer_after_minutes = created.after_minutes,
    calendar_dates = latest_dates.dates
from created join latest_dates using (stream_id)
where created.stream_id = 'booking-' || b.id;

-- An unfinished rebuild has the old columns: the next rebuild starts over.
drop schema if exists rm_bookings__rebuild cascade;
delete from feed_checkpoints where name = 'projection:bookings:rebuild';
