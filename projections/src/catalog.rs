//! The list of projections: their names, schemas, the streams they read, and dispatch to
//! their event handlers.

use crate::decode::{decode, DecodeError, Event};
use crate::projection;
use crate::projection::plan::Plan;
use event_store::RecordedEvent;

/// One read model (a projection and the schema it owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectionName {
    Workspaces,
    Staff,
    Services,
    Bookings,
    Contacts,
    Inbox,
    Inventory,
    Forms,
    Alerts,
}

impl ProjectionName {
    /// Every projection, in a stable order.
    pub const ALL: [ProjectionName; 9] = [
        ProjectionName::Workspaces,
        ProjectionName::Staff,
        ProjectionName::Services,
        ProjectionName::Bookings,
        ProjectionName::Contacts,
        ProjectionName::Inbox,
        ProjectionName::Inventory,
        ProjectionName::Forms,
        ProjectionName::Alerts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionName::Workspaces => "workspaces",
            ProjectionName::Staff => "staff",
            ProjectionName::Services => "services",
            ProjectionName::Bookings => "bookings",
            ProjectionName::Contacts => "contacts",
            ProjectionName::Inbox => "inbox",
            ProjectionName::Inventory => "inventory",
            ProjectionName::Forms => "forms",
            ProjectionName::Alerts => "alerts",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The live schema (`rm_<name>`).
    pub fn schema(self) -> String {
        format!("rm_{}", self.as_str())
    }

    /// The schema a rebuild fills before the swap.
    pub fn rebuild_schema(self) -> String {
        format!("rm_{}__rebuild", self.as_str())
    }

    /// The checkpoint name in `feed_checkpoints`.
    pub fn checkpoint(self) -> String {
        format!("projection:{}", self.as_str())
    }

    /// The checkpoint of an unfinished rebuild.
    pub fn rebuild_checkpoint(self) -> String {
        format!("projection:{}:rebuild", self.as_str())
    }

    /// The events this projection reads: by stream type, all of that stream's events or
    /// only some types. The runner passes over a batch with none of them without opening a
    /// transaction, so the list must hold every event a handler below acts on (the rebuild
    /// and read-model tests would show a missing one).
    fn interests(self) -> &'static [(&'static str, Interest)] {
        use Interest::{All, Only};
        const ERASURE: Interest = Only(&["ContactErased"]);
        match self {
            ProjectionName::Workspaces => &[("workspace", All)],
            ProjectionName::Staff => &[("user", All), ("schedule", All)],
            ProjectionName::Services => &[("service", All)],
            ProjectionName::Bookings => &[("booking", All), ("contact", ERASURE)],
            ProjectionName::Contacts => &[("contact", All)],
            ProjectionName::Inbox => &[("conversation", All), ("contact", ERASURE)],
            ProjectionName::Inventory => &[("inventory", All)],
            ProjectionName::Forms => &[
                ("form_template", All),
                ("form_request", All),
                ("contact", ERASURE),
            ],
            ProjectionName::Alerts => &[
                (
                    "inventory",
                    Only(&[
                        "InventoryItemCreated",
                        "InventoryItemUpdated",
                        "LowStockCrossed",
                        "LowStockCleared",
                    ]),
                ),
                ("workspace", Only(&["AlertDismissed"])),
                ("notification", Only(&["NotificationFailed"])),
            ],
        }
    }

    /// The feed filter that returns every event this projection reads (and maybe a few
    /// more: an event type named by an `Only` interest is matched in any stream, and
    /// [`ProjectionName::reads`] still decides).
    pub(crate) fn feed_filter(self) -> event_store::FeedFilter {
        let mut filter = event_store::FeedFilter::default();
        for (stream_type, interest) in self.interests() {
            match interest {
                Interest::All => filter.stream_types.push((*stream_type).to_string()),
                Interest::Only(types) => filter
                    .event_types
                    .extend(types.iter().map(|t| (*t).to_string())),
            }
        }
        filter
    }

    /// Whether this projection reads `event`.
    pub(crate) fn reads(self, event: &RecordedEvent) -> bool {
        self.interests().iter().any(|(stream_type, interest)| {
            *stream_type == event.stream_type
                && match interest {
                    Interest::All => true,
                    Interest::Only(types) => types.contains(&event.event_type.as_str()),
                }
        })
    }

    /// Adds what `event` changes in this projection's tables to `plan`. Events of other
    /// streams and unknown event types add nothing.
    pub(crate) fn plan(self, plan: &mut Plan, event: &RecordedEvent) -> Result<(), DecodeError> {
        if !self.reads(event) {
            return Ok(());
        }
        let Some(decoded) = decode(event)? else {
            return Ok(());
        };
        let (p, e) = (plan, event);
        match (self, &decoded) {
            (ProjectionName::Workspaces, Event::Workspace(ev)) => {
                projection::workspaces::apply(p, e, ev)
            }
            (ProjectionName::Staff, Event::User(ev)) => projection::staff::apply_user(p, e, ev),
            (ProjectionName::Staff, Event::Schedule(ev)) => {
                projection::staff::apply_schedule(p, e, ev)
            }
            (ProjectionName::Services, Event::Service(ev)) => projection::services::apply(p, e, ev),
            (ProjectionName::Bookings, Event::Booking(ev)) => projection::bookings::apply(p, e, ev),
            (ProjectionName::Bookings, Event::Contact(ev)) => {
                projection::bookings::apply_contact(p, ev)
            }
            (ProjectionName::Contacts, Event::Contact(ev)) => projection::contacts::apply(p, e, ev),
            (ProjectionName::Inbox, Event::Conversation(ev)) => projection::inbox::apply(p, e, ev),
            (ProjectionName::Inbox, Event::Contact(ev)) => projection::inbox::apply_contact(p, ev),
            (ProjectionName::Inventory, Event::Inventory(ev)) => {
                projection::inventory::apply(p, e, ev)
            }
            (ProjectionName::Forms, Event::FormTemplate(ev)) => {
                projection::forms::apply_template(p, e, ev)
            }
            (ProjectionName::Forms, Event::FormRequest(ev)) => {
                projection::forms::apply_request(p, e, ev)
            }
            (ProjectionName::Forms, Event::Contact(ev)) => projection::forms::apply_contact(p, ev),
            (ProjectionName::Alerts, Event::Inventory(ev)) => {
                projection::alerts::apply_inventory(p, e, ev)
            }
            (ProjectionName::Alerts, Event::Workspace(ev)) => {
                projection::alerts::apply_workspace(p, e, ev)
            }
            (ProjectionName::Alerts, Event::Notification(ev)) => {
                projection::alerts::apply_notification(p, e, ev)
            }
            _ => {}
        }
        Ok(())
    }
}

/// Which events of a stream type a projection reads.
#[derive(Debug, Clone, Copy)]
enum Interest {
    All,
    Only(&'static [&'static str]),
}

impl std::fmt::Display for ProjectionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
