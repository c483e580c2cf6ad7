//! Random but plausible command outcomes: each "command" is one append of the events a
//! command of the domain would record (a booking with its stock deduction, a reply, an
//! erasure, ...), over a few workspaces. Deterministic for a seed.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::events::*;

struct Workspace {
    id: Uuid,
    owner: Uuid,
    staff: Vec<Uuid>,
    services: Vec<Uuid>,
    items: Vec<(Uuid, u32, u32, bool)>, // id, quantity, threshold, low
    contacts: Vec<Uuid>,
    bookings: Vec<(Uuid, DateTime<Utc>, Uuid, bool)>, // id, start, staff, open
    conversations: Vec<(Uuid, Uuid)>,
    templates: Vec<Uuid>,
    requests: Vec<(Uuid, Uuid, bool)>,
}

/// `commands` appends (workspace, events), starting with the set-up of `workspaces`.
pub fn commands(seed: u64, workspaces: usize, commands: usize) -> Vec<(Uuid, Vec<Ev>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(commands);
    let mut spaces: Vec<Workspace> = Vec::new();
    let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo"];
    for n in 0..workspaces {
        let id = Uuid::now_v7();
        let owner = Uuid::now_v7();
        out.push((
            id,
            vec![
                workspace_created(
                    id,
                    owner,
                    &format!("salon-{n}-{}", id.simple()),
                    zones[n % zones.len()],
                ),
                owner_registered(id, owner, "Olivia Owner"),
                availability_set(id, owner),
                workspace_activated(id),
            ],
        ));
        spaces.push(Workspace {
            id,
            owner,
            staff: vec![owner],
            services: vec![],
            items: vec![],
            contacts: vec![],
            bookings: vec![],
            conversations: vec![],
            templates: vec![],
            requests: vec![],
        });
    }
    let base = Utc
        .with_ymd_and_hms(2026, 11, 1, 8, 0, 0)
        .single()
        .expect("time");
    while out.len() < commands {
        let w = rng.gen_range(0..spaces.len());
        let ws = &mut spaces[w];
        let id = ws.id;
        let events = match rng.gen_range(0..100) {
            0..=2 => {
                let s = Uuid::now_v7();
                ws.staff.push(s);
                vec![staff_invited(id, s, "Sam Staff"), availability_set(id, s)]
            }
            3..=5 => {
                let s = Uuid::now_v7();
                ws.services.push(s);
                vec![service_created(
                    id,
                    s,
                    "Cut",
                    rng.gen_range(1000..9000),
                    &[],
                )]
            }
            6..=8 => {
                let i = Uuid::now_v7();
                let q = rng.gen_range(5..50);
                ws.items.push((i, q, 5, false));
                vec![item_created(id, i, "Shampoo", q, 5)]
            }
            9..=20 => {
                let c = Uuid::now_v7();
                ws.contacts.push(c);
                vec![contact_created(
                    id,
                    c,
                    "Chris Client",
                    Some(&format!("{}@example.org", c.simple())),
                    None,
                )]
            }
            21..=45 if !ws.services.is_empty() && !ws.contacts.is_empty() => {
                let b = Uuid::now_v7();
                let staff = ws.staff[rng.gen_range(0..ws.staff.len())];
                let start = base + Duration::minutes(15 * rng.gen_range(0..4000));
                ws.bookings.push((b, start, staff, true));
                let service = ws.services[rng.gen_range(0..ws.services.len())];
                let contact = ws.contacts[rng.gen_range(0..ws.contacts.len())];
                let mut events = vec![booking_created(
                    id,
                    b,
                    service,
                    staff,
                    contact,
                    start,
                    4500,
                    "pending",
                    Some("first visit"),
                )];
                if let Some(item) = ws.items.iter_mut().find(|i| i.1 > 0) {
                    item.1 -= 1;
                    events.push(stock_deducted(item.0, b, 1, item.1));
                    if item.1 <= item.2 && !item.3 {
                        item.3 = true;
                        events.push(low_stock_crossed(item.0, item.1, item.2));
                    }
                }
                events
            }
            46..=60 if !ws.bookings.is_empty() => {
                let k = rng.gen_range(0..ws.bookings.len());
                let (b, start, staff, open) = ws.bookings[k];
                if !open {
                    continue;
                }
                let kind = [
                    "BookingConfirmed",
                    "BookingCancelled",
                    "BookingCompleted",
                    "BookingNoShow",
                    "BookingRescheduled",
                ][rng.gen_range(0..5)];
                if kind == "BookingRescheduled" {
                    let new = start + Duration::hours(rng.gen_range(1..48));
                    let new_staff = ws.staff[rng.gen_range(0..ws.staff.len())];
                    ws.bookings[k] = (b, new, new_staff, true);
                    vec![booking_rescheduled(b, start, new, staff, new_staff)]
                } else {
                    if kind != "BookingConfirmed" {
                        ws.bookings[k].3 = false;
                    }
                    vec![booking_simple(b, kind)]
                }
            }
            61..=66 if !ws.items.is_empty() => {
                let k = rng.gen_range(0..ws.items.len());
                let item = &mut ws.items[k];
                item.1 += 20;
                let mut events = vec![stock_received(item.0, 20, item.1)];
                if item.3 && item.1 > item.2 {
                    item.3 = false;
                    events.push(low_stock_cleared(item.0, item.1, item.2));
                }
                events
            }
            67..=74 if !ws.contacts.is_empty() => {
                let c = ws.contacts[rng.gen_range(0..ws.contacts.len())];
                let conv = Uuid::now_v7();
                ws.conversations.push((conv, c));
                let at = base + Duration::minutes(rng.gen_range(0..10000));
                vec![
                    conversation_started(id, conv, c),
                    message(conv, c, true, "Hello, do you have time on Friday?", at),
                ]
            }
            75..=84 if !ws.conversations.is_empty() => {
                let (conv, c) = ws.conversations[rng.gen_range(0..ws.conversations.len())];
                let at = base + Duration::minutes(rng.gen_range(0..10000));
                match rng.gen_range(0..4) {
                    0 => vec![message(conv, c, true, "Another question", at)],
                    1 => vec![message(conv, c, false, "Sure, see you then", at)],
                    2 => vec![conversation_assigned(
                        conv,
                        Some(ws.staff[rng.gen_range(0..ws.staff.len())]),
                    )],
                    _ => vec![conversation_closed(conv)],
                }
            }
            85..=86 => {
                let t = Uuid::now_v7();
                ws.templates.push(t);
                vec![template_defined(id, t)]
            }
            87..=91 if !ws.templates.is_empty() && !ws.contacts.is_empty() => {
                let r = Uuid::now_v7();
                let c = ws.contacts[rng.gen_range(0..ws.contacts.len())];
                ws.requests.push((r, c, false));
                vec![form_requested(
                    id,
                    r,
                    ws.templates[rng.gen_range(0..ws.templates.len())],
                    c,
                )]
            }
            92..=94 if !ws.requests.is_empty() => {
                let k = rng.gen_range(0..ws.requests.len());
                let (r, c, done) = ws.requests[k];
                if done {
                    continue;
                }
                ws.requests[k].2 = true;
                vec![form_submitted(
                    r,
                    c,
                    base + Duration::minutes(rng.gen_range(0..10000)),
                )]
            }
            95 if !ws.contacts.is_empty() => {
                let c = ws.contacts[rng.gen_range(0..ws.contacts.len())];
                vec![contact_erased(c)]
            }
            96 if !ws.contacts.is_empty() => {
                let c = ws.contacts[rng.gen_range(0..ws.contacts.len())];
                vec![contact_updated(c, "Chris Renamed")]
            }
            97 if !ws.services.is_empty() => {
                let s = ws.services[rng.gen_range(0..ws.services.len())];
                vec![service_updated(s, "Cut & style", rng.gen_range(1000..9000))]
            }
            98 if !ws.items.is_empty() => {
                let k = rng.gen_range(0..ws.items.len());
                let item = &mut ws.items[k];
                item.1 += 1;
                vec![stock_adjusted(item.0, 1, item.1)]
            }
            99 => vec![unknown(id)],
            _ => continue,
        };
        let _ = ws.owner;
        out.push((id, events));
    }
    out
}
