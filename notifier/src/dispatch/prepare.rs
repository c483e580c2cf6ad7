//! Preparing a due notification: is it still wanted, who exactly gets it, what does it say.
//!
//! Everything is read from the event store as it is *now* (the booking may have been
//! cancelled or moved since the row was planned, the contact erased, the item restocked), so
//! a row planned from an older event never sends something stale. The outcome is a
//! [`Prepared`]: a delivery with the facts to record once sent, a reason to skip, or a later
//! due time.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::booking::{Booking, BookingAggregate, BookingEvent, BookingStatus};
use domain::contact::ContactAggregate;
use domain::conversation::{ConversationAggregate, ConversationEvent};
use domain::form_request::{FormRequestAggregate, FormRequestStatus};
use domain::form_template::FormTemplateAggregate;
use domain::inventory::{InventoryAggregate, LowStock};
use domain::notification::{Channel, NotificationKind, RecipientRole};
use domain::service::ServiceAggregate;
use domain::user::{User, UserAggregate};
use domain::workspace::{Workspace, WorkspaceAggregate};
use uuid::Uuid;

use super::Dispatcher;
use crate::compose::{self, ics, BookingFacts, Facts, SummaryFacts, WorkspaceFacts};
use crate::load::{decode, LoadError, Loaded};
use crate::message::{Address, Attachment, OutgoingEmail, OutgoingSms};
use crate::providers::routes::WorkspaceRoutes;
use crate::table::Row;

/// A domain fact to record with the notification, in the same append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    None,
    /// `ReminderSent` on the booking (once per offset; the second channel finds it recorded).
    Reminder {
        booking_id: Uuid,
        offset_minutes: u32,
    },
    /// `FollowUpSent` on the booking.
    FollowUp {
        booking_id: Uuid,
    },
    /// `LowStockAlerted` on the item (`last_alert_at`).
    LowStockAlert {
        item_id: Uuid,
    },
    /// `DailySummarySent` instead of `NotificationSent`.
    DailySummary {
        local_date: NaiveDate,
    },
}

/// The message of a delivery.
pub enum Outgoing {
    Email(OutgoingEmail),
    Sms(OutgoingSms),
}

/// A notification ready to send.
pub struct Delivery {
    pub outgoing: Outgoing,
    pub routes: std::sync::Arc<WorkspaceRoutes>,
    pub fact: Fact,
}

impl Delivery {
    /// Whether a repeated send delivers once.
    pub fn idempotent(&self) -> bool {
        match &self.outgoing {
            Outgoing::Email(_) => self.routes.email.idempotent(),
            Outgoing::Sms(_) => self.routes.sms.as_ref().is_none_or(|r| r.idempotent()),
        }
    }

    /// Sends through the route; the provider that took it.
    pub async fn send(&self) -> Result<&'static str, crate::providers::SendError> {
        match &self.outgoing {
            Outgoing::Email(email) => self.routes.email.send(email).await,
            Outgoing::Sms(sms) => match &self.routes.sms {
                Some(route) => route.send(sms).await,
                None => Err(crate::providers::SendError::new(
                    "sms",
                    "SMS is not configured",
                )),
            },
        }
    }
}

/// What to do with a due row.
pub enum Prepared {
    Send(Box<Delivery>),
    /// Not wanted any more; the reason is kept on the row (no personal data).
    Skip(String),
    /// Not due yet after all (its booking moved later): due at this instant.
    Later(DateTime<Utc>),
}

/// Why a row could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Worth retrying (the database or a dependency answered with an error).
    #[error("{0}")]
    Transient(String),
    /// Will not get better: give up at once with `NotificationFailed`.
    #[error("{0}")]
    Permanent(String),
}

impl From<LoadError> for PrepareError {
    fn from(error: LoadError) -> Self {
        PrepareError::Transient(error.to_string())
    }
}

impl From<sqlx::Error> for PrepareError {
    fn from(error: sqlx::Error) -> Self {
        PrepareError::Transient(format!("database: {error}"))
    }
}

fn skip(reason: &str) -> Result<Prepared, PrepareError> {
    Ok(Prepared::Skip(reason.to_string()))
}

/// Who a message goes to.
struct Recipient {
    /// The address (email or E.164 phone).
    address: String,
    name: String,
}

/// The workspace, its routes and the loaded streams shared by the steps.
struct Context<'a> {
    row: &'a Row,
    now: DateTime<Utc>,
    workspace: Workspace,
    facts: WorkspaceFacts,
    loaded: std::borrow::Cow<'a, Loaded>,
    preloaded: &'a Preloaded,
}

/// What a round reads once for all its rows: the streams its rows need (workspace, subject,
/// recipient; for bookings also service, staff member and contact) and the SMS opt-outs
/// among its recipients. A row whose streams are not all there reads them itself.
#[derive(Debug, Default)]
pub struct Preloaded {
    pub loaded: Loaded,
    pub opted_out: std::collections::HashSet<Uuid>,
    /// Rows whose outcome is already in the event store (the table was rebuilt or replayed):
    /// closed without sending.
    pub recorded: std::collections::HashSet<Uuid>,
}

/// The streams a row needs first.
fn first_streams(row: &Row) -> Vec<String> {
    let mut ids = vec![
        domain::workspace::stream_id(row.workspace_id),
        subject_stream(row),
    ];
    if let Some(recipient) = recipient_stream(row) {
        ids.push(recipient);
    }
    ids
}

/// The streams describing a booking.
fn booking_streams(booking: &Booking) -> [String; 3] {
    [
        domain::service::stream_id(booking.service_id),
        domain::user::stream_id(booking.staff_id),
        domain::contact::stream_id(booking.contact_id),
    ]
}

fn is_booking_kind(kind: NotificationKind) -> bool {
    matches!(
        kind,
        NotificationKind::BookingConfirmation
            | NotificationKind::BookingRequested
            | NotificationKind::NewBooking
            | NotificationKind::BookingRescheduled
            | NotificationKind::BookingCancelled
            | NotificationKind::Reminder
            | NotificationKind::FollowUp
    )
}

fn person_name(name: &domain::Personal<domain::values::PersonName>) -> Option<String> {
    name.known().map(|n| n.as_str().to_string())
}

impl Dispatcher {
    /// Reads what the rows of a round need, in two round trips for all of them.
    pub(super) async fn preload(&self, rows: &[Row]) -> Result<Preloaded, PrepareError> {
        let first: Vec<String> = rows.iter().flat_map(first_streams).collect();
        let mut loaded = Loaded::read(&self.store, &first).await?;
        let mut second = Vec::new();
        for row in rows.iter().filter(|r| is_booking_kind(r.kind)) {
            let stream = domain::booking::stream_id(row.subject_id);
            if let Ok(Some(booking)) = loaded.state::<BookingAggregate>(&stream) {
                second.extend(booking_streams(&booking));
            }
        }
        second.retain(|id| !loaded.covers(std::slice::from_ref(id)));
        if !second.is_empty() {
            let more = Loaded::read(&self.store, &second).await?;
            loaded.extend(more);
        }
        let sms_recipients: Vec<Uuid> = rows
            .iter()
            .filter(|r| r.channel == Channel::Sms && r.role == RecipientRole::Customer)
            .filter_map(|r| r.recipient_id)
            .collect();
        let opted_out = if sms_recipients.is_empty() {
            Default::default()
        } else {
            sqlx::query_scalar::<_, Uuid>(
                "select contact_id from notifier.sms_opt_outs where contact_id = any($1)",
            )
            .bind(&sms_recipients)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect()
        };
        let notification_streams: Vec<String> = rows
            .iter()
            .map(|r| domain::notification::stream_id(r.id))
            .collect();
        let recorded: Vec<String> = sqlx::query_scalar(
            "select stream_id from events where stream_id = any($1) and stream_version = 1",
        )
        .bind(&notification_streams)
        .fetch_all(&self.pool)
        .await?;
        let recorded = rows
            .iter()
            .filter(|r| recorded.contains(&domain::notification::stream_id(r.id)))
            .map(|r| r.id)
            .collect();
        Ok(Preloaded {
            loaded,
            opted_out,
            recorded,
        })
    }

    /// Decides what to do with a claimed row.
    pub(super) async fn prepare<'a>(
        &self,
        row: &'a Row,
        now: DateTime<Utc>,
        preloaded: &'a Preloaded,
    ) -> Result<Prepared, PrepareError> {
        let ws_stream = domain::workspace::stream_id(row.workspace_id);
        let first = first_streams(row);
        let loaded = Loaded::read_or_borrow(&self.store, &preloaded.loaded, &first).await?;
        let Some(workspace) = loaded.state::<WorkspaceAggregate>(&ws_stream)? else {
            return skip("the workspace does not exist");
        };
        let facts = WorkspaceFacts {
            name: workspace.name.as_str().to_string(),
            zone: workspace.timezone.tz(),
            booking_page: format!("{}/book/{}", self.public_base_url, workspace.slug.as_str()),
        };
        let mut cx = Context {
            row,
            now,
            workspace,
            facts,
            loaded,
            preloaded,
        };
        if row.kind != NotificationKind::DailySummary
            && row.kind != NotificationKind::Reminder
            && now - row.due_at > chrono_duration(self.config.max_lateness)
        {
            return skip("too late: the moment for this message has passed");
        }
        let (facts, fact) = match row.kind {
            NotificationKind::BookingConfirmation
            | NotificationKind::BookingRequested
            | NotificationKind::NewBooking
            | NotificationKind::BookingRescheduled
            | NotificationKind::BookingCancelled
            | NotificationKind::Reminder
            | NotificationKind::FollowUp => match self.booking_facts(&mut cx).await? {
                Ok(found) => found,
                Err(prepared) => return Ok(prepared),
            },
            NotificationKind::LowStock => {
                let stream = domain::inventory::stream_id(row.subject_id);
                let Some(item) = cx.loaded.state::<InventoryAggregate>(&stream)? else {
                    return skip("the item does not exist");
                };
                match item.low_stock {
                    LowStock::AlertPending => {}
                    LowStock::Alerted { .. } => return skip("already alerted for this crossing"),
                    LowStock::Above => return skip("restocked above the threshold"),
                }
                (
                    Facts::LowStock {
                        item: item.name.as_str().to_string(),
                        unit: item.unit.as_str().to_string(),
                        quantity: item.quantity,
                        threshold: item.threshold,
                    },
                    Fact::LowStockAlert { item_id: item.id },
                )
            }
            NotificationKind::StaffInvitation => {
                let Some((nonce, sealed)) = &row.secret else {
                    return Err(PrepareError::Permanent(
                        "the generated password is no longer available; invite the staff member again".into(),
                    ));
                };
                let password = self
                    .secrets
                    .open(row.id.as_bytes(), nonce, sealed)
                    .map_err(|e| {
                        PrepareError::Permanent(format!("the password cannot be opened: {e}"))
                    })?;
                let password = String::from_utf8(password)
                    .map_err(|_| PrepareError::Permanent("the password is not text".into()))?;
                let Some(user) = user(&cx.loaded, row.subject_id)? else {
                    return skip("the user does not exist");
                };
                let (Some(name), Some(email)) = (person_name(&user.name), user.email.known())
                else {
                    return skip("the user's personal data was erased");
                };
                (
                    Facts::StaffInvitation {
                        staff_name: name,
                        login_email: email.as_str().to_string(),
                        password,
                        login_url: format!("{}/login", self.public_base_url),
                    },
                    Fact::None,
                )
            }
            NotificationKind::FormRequest => {
                let stream = domain::form_request::stream_id(row.subject_id);
                let Some(request) = cx.loaded.state::<FormRequestAggregate>(&stream)? else {
                    return skip("the form request does not exist");
                };
                if !matches!(request.status, FormRequestStatus::Pending) {
                    return skip("the form was already submitted");
                }
                let template_stream = domain::form_template::stream_id(request.template_id);
                let more =
                    Loaded::read(&self.store, std::slice::from_ref(&template_stream)).await?;
                let form = more
                    .state::<FormTemplateAggregate>(&template_stream)?
                    .map(|t| t.name.as_str().to_string())
                    .unwrap_or_else(|| "form".into());
                let link = match &row.secret {
                    Some((nonce, sealed)) => {
                        let token = self
                            .secrets
                            .open(row.id.as_bytes(), nonce, sealed)
                            .ok()
                            .and_then(|t| String::from_utf8(t).ok());
                        token.map(|t| format!("{}/forms/{t}", self.public_base_url))
                    }
                    None => None,
                };
                (
                    Facts::FormRequest {
                        customer: String::new(),
                        form,
                        link,
                    },
                    Fact::None,
                )
            }
            NotificationKind::InboxMessage => {
                let Some(conversation_id) = row.details.conversation_id else {
                    return skip("the message has no conversation");
                };
                let stream = domain::conversation::stream_id(conversation_id);
                let more = Loaded::read(&self.store, std::slice::from_ref(&stream)).await?;
                if more.state::<ConversationAggregate>(&stream)?.is_none() {
                    return skip("the conversation does not exist");
                }
                let mut body = None;
                for event in more.events(&stream) {
                    if event.event_type != "MessageSent" {
                        continue;
                    }
                    if let ConversationEvent::MessageSent {
                        message_id,
                        body: b,
                        ..
                    } = decode::<ConversationAggregate>(event)?
                    {
                        if message_id == row.subject_id {
                            body = Some(b);
                        }
                    }
                }
                let Some(body) = body else {
                    return skip("the message does not exist");
                };
                let Some(body) = body.known() else {
                    return skip("the message was erased");
                };
                (
                    Facts::InboxMessage {
                        customer: String::new(),
                        body: body.as_str().to_string(),
                    },
                    Fact::None,
                )
            }
            NotificationKind::DailySummary => {
                let Some(local_date) = row.details.local_date else {
                    return skip("the summary has no date");
                };
                if now - row.due_at > Duration::hours(12) {
                    return skip("too late for this day's summary");
                }
                if !cx.workspace.is_active() {
                    return skip("the workspace is not active yet");
                }
                let stats = projections::query::dashboard::stats(
                    &self.pool,
                    &projections::query::Scope::owner(row.workspace_id),
                    now,
                )
                .await
                .map_err(|e| PrepareError::Transient(format!("dashboard: {e}")))?;
                (
                    Facts::DailySummary(SummaryFacts { local_date, stats }),
                    Fact::DailySummary { local_date },
                )
            }
            NotificationKind::DeadLetter => return skip("not a message"),
        };
        self.address(&mut cx, facts, fact).await
    }

    /// Checks a booking notification against the booking as it is now and gathers its facts.
    async fn booking_facts(
        &self,
        cx: &mut Context<'_>,
    ) -> Result<Result<(Facts, Fact), Prepared>, PrepareError> {
        let row = cx.row;
        let stream = domain::booking::stream_id(row.subject_id);
        let Some(booking) = cx.loaded.state::<BookingAggregate>(&stream)? else {
            return Ok(Err(Prepared::Skip("the booking does not exist".into())));
        };
        let sequence = cx.loaded.version(&stream);
        let cause = cx
            .loaded
            .events(&stream)
            .iter()
            .find(|e| e.event_id == row.cause_event_id)
            .map(decode::<BookingAggregate>)
            .transpose()?;
        let now = cx.now;
        let status = booking.status;
        let mut reason = None;
        let mut old_start = None;
        let mut fact = Fact::None;
        let stop = |why: &str| Ok(Err(Prepared::Skip(why.to_string())));
        match row.kind {
            NotificationKind::BookingConfirmation => {
                if status != BookingStatus::Confirmed {
                    return stop("the booking is not confirmed any more");
                }
                if booking.start() <= now {
                    return stop("the booking has started");
                }
            }
            NotificationKind::BookingRequested if status != BookingStatus::Pending => {
                return stop("the booking is not pending any more");
            }
            NotificationKind::NewBooking if status == BookingStatus::Cancelled => {
                return stop("the booking was cancelled");
            }
            NotificationKind::BookingRescheduled => {
                if !status.is_open() {
                    return stop("the booking is not open any more");
                }
                if let Some(BookingEvent::BookingRescheduled {
                    old_start: old,
                    new_start,
                    ..
                }) = cause
                {
                    if new_start != booking.start() {
                        return stop("superseded by a later change");
                    }
                    old_start = Some(old);
                }
            }
            NotificationKind::BookingCancelled => {
                if status != BookingStatus::Cancelled {
                    return stop("the booking is not cancelled");
                }
                if let Some(BookingEvent::BookingCancelled { reason: r, .. }) = cause {
                    reason = r.map(|r| r.as_str().to_string());
                }
            }
            NotificationKind::Reminder => {
                let offset = row.details.offset_minutes.unwrap_or(0);
                if !status.is_open() {
                    return stop("the booking is not open any more");
                }
                if row.details.start != Some(booking.start()) {
                    return stop("the booking moved; its new reminders replace this one");
                }
                if booking.start() <= now {
                    return stop("the booking has started");
                }
                let due = booking.start() - Duration::minutes(i64::from(offset));
                if due > now {
                    return Ok(Err(Prepared::Later(due)));
                }
                if now - due > Duration::minutes(i64::from(offset / 2).max(1)) {
                    return stop("too late for this reminder");
                }
                fact = Fact::Reminder {
                    booking_id: booking.id,
                    offset_minutes: offset,
                };
            }
            NotificationKind::FollowUp => {
                if status != BookingStatus::Completed {
                    return stop("the booking is not completed");
                }
                if booking.follow_up_sent {
                    return stop("the follow-up was already sent");
                }
                fact = Fact::FollowUp {
                    booking_id: booking.id,
                };
            }
            _ => {}
        }
        let facts = self
            .describe(cx, &booking, sequence, old_start, reason)
            .await?;
        Ok(Ok((Facts::Booking(row.kind, facts), fact)))
    }

    /// The booking as messages describe it (service, staff, customer names).
    async fn describe(
        &self,
        cx: &Context<'_>,
        booking: &Booking,
        sequence: u64,
        old_start: Option<DateTime<Utc>>,
        reason: Option<String>,
    ) -> Result<BookingFacts, PrepareError> {
        let streams = booking_streams(booking);
        let [service_stream, staff_stream, contact_stream] = &streams;
        let more = Loaded::read_or_borrow(&self.store, &cx.preloaded.loaded, &streams).await?;
        let service = more
            .state::<ServiceAggregate>(service_stream)?
            .map(|s| s.definition.name.as_str().to_string())
            .unwrap_or_else(|| "your appointment".into());
        let staff = more
            .state::<UserAggregate>(staff_stream)?
            .and_then(|u| person_name(&u.name))
            .unwrap_or_else(|| "our team".into());
        let customer = more
            .state::<ContactAggregate>(contact_stream)?
            .and_then(|c| person_name(&c.name))
            .unwrap_or_else(|| "a customer".into());
        Ok(BookingFacts {
            booking_id: booking.id,
            service,
            staff,
            customer,
            start: booking.start(),
            end: booking.end(),
            old_start,
            price: booking.price.to_string(),
            reason,
            offset_minutes: cx.row.details.offset_minutes,
            manage_url: self.manage_url(cx, booking.id),
            sequence,
        })
    }

    /// The customer's manage/cancel link: the booking page with the booking and, for a
    /// public booking's first messages, the manage token handed over with it.
    fn manage_url(&self, cx: &Context<'_>, booking_id: Uuid) -> String {
        let token = cx
            .row
            .secret
            .as_ref()
            .filter(|_| cx.row.role == RecipientRole::Customer)
            .and_then(|(nonce, sealed)| self.secrets.open(cx.row.id.as_bytes(), nonce, sealed).ok())
            .and_then(|token| String::from_utf8(token).ok());
        match token {
            Some(token) => format!(
                "{}?booking={booking_id}&token={token}",
                cx.facts.booking_page
            ),
            None => format!("{}?booking={booking_id}", cx.facts.booking_page),
        }
    }

    /// Resolves the recipient and the route, and renders the message.
    async fn address(
        &self,
        cx: &mut Context<'_>,
        mut facts: Facts,
        fact: Fact,
    ) -> Result<Prepared, PrepareError> {
        let row = cx.row;
        let routes = self
            .routes
            .for_workspace(row.workspace_id)
            .await
            .map_err(|e| PrepareError::Transient(format!("provider settings: {e}")))?;
        let recipient = match self.recipient(cx).await? {
            Ok(recipient) => recipient,
            Err(skipped) => return Ok(skipped),
        };
        // Forms and inbox messages greet the contact by name.
        match &mut facts {
            Facts::FormRequest { customer, .. } | Facts::InboxMessage { customer, .. } => {
                customer.clone_from(&recipient.name)
            }
            _ => {}
        }
        let outgoing = match row.channel {
            Channel::Email => {
                let text = compose::email(&cx.facts, &facts);
                let mut attachments = Vec::new();
                if let Facts::Booking(kind, booking) = &facts {
                    if matches!(
                        kind,
                        NotificationKind::BookingConfirmation
                            | NotificationKind::BookingRescheduled
                            | NotificationKind::BookingCancelled
                    ) && row.role == RecipientRole::Customer
                    {
                        attachments.push(calendar_attachment(&cx.facts, booking, *kind, cx.now));
                    }
                }
                Outgoing::Email(OutgoingEmail {
                    notification_id: row.id,
                    kind: row.kind,
                    from: Address {
                        email: routes.email.from_address.clone(),
                        name: Some(
                            routes
                                .email
                                .from_name
                                .clone()
                                .unwrap_or_else(|| cx.facts.name.clone()),
                        ),
                    },
                    reply_to: cx
                        .workspace
                        .business_email
                        .as_ref()
                        .map(|e| e.as_str().to_string()),
                    to: Address {
                        email: recipient.address,
                        name: Some(recipient.name),
                    },
                    subject: text.subject,
                    text: text.text,
                    html: text.html,
                    attachments,
                })
            }
            Channel::Sms => {
                let Some(route) = &routes.sms else {
                    return skip("SMS is not configured");
                };
                Outgoing::Sms(OutgoingSms {
                    notification_id: row.id,
                    kind: row.kind,
                    from: route.from.clone(),
                    to: recipient.address,
                    body: compose::sms(&cx.facts, &facts),
                })
            }
        };
        Ok(Prepared::Send(Box::new(Delivery {
            outgoing,
            routes,
            fact,
        })))
    }

    /// The recipient's address for the row's channel, or why there is none.
    async fn recipient(
        &self,
        cx: &mut Context<'_>,
    ) -> Result<Result<Recipient, Prepared>, PrepareError> {
        let row = cx.row;
        let skipped = |why: &str| Ok(Err(Prepared::Skip(why.to_string())));
        let Some(recipient_id) = row.recipient_id else {
            return skipped("no recipient");
        };
        match row.role {
            RecipientRole::Customer => {
                let stream = domain::contact::stream_id(recipient_id);
                let Some(contact) = cx.loaded.state::<ContactAggregate>(&stream)? else {
                    return skipped("the contact does not exist");
                };
                let Some(name) = person_name(&contact.name).filter(|_| !contact.erased) else {
                    return skipped("the contact was erased");
                };
                match row.channel {
                    Channel::Email => match contact.email() {
                        Some(email) => Ok(Ok(Recipient {
                            address: email.as_str().to_string(),
                            name,
                        })),
                        None => skipped("the contact has no email address"),
                    },
                    Channel::Sms => {
                        let Some(phone) = contact.phone() else {
                            return skipped("the contact has no phone number");
                        };
                        let opted_out = cx.preloaded.opted_out.contains(&recipient_id);
                        if opted_out {
                            return skipped("the contact answered STOP");
                        }
                        Ok(Ok(Recipient {
                            address: phone.as_str().to_string(),
                            name,
                        }))
                    }
                }
            }
            RecipientRole::Owner | RecipientRole::Staff => {
                let Some(user) = user(&cx.loaded, recipient_id)? else {
                    return skipped("the user does not exist");
                };
                if !user.active {
                    return skipped("the user is deactivated");
                }
                let (Some(name), Some(email)) = (person_name(&user.name), user.email.known())
                else {
                    return skipped("the user's personal data was erased");
                };
                match row.channel {
                    Channel::Email => Ok(Ok(Recipient {
                        address: email.as_str().to_string(),
                        name,
                    })),
                    Channel::Sms => skipped("users are not sent SMS"),
                }
            }
        }
    }
}

fn user(loaded: &Loaded, user_id: Uuid) -> Result<Option<User>, LoadError> {
    loaded.state::<UserAggregate>(&domain::user::stream_id(user_id))
}

/// The stream the row is about.
fn subject_stream(row: &Row) -> String {
    match row.kind {
        NotificationKind::LowStock => domain::inventory::stream_id(row.subject_id),
        NotificationKind::StaffInvitation => domain::user::stream_id(row.subject_id),
        NotificationKind::FormRequest => domain::form_request::stream_id(row.subject_id),
        NotificationKind::DailySummary
        | NotificationKind::InboxMessage
        | NotificationKind::DeadLetter => domain::workspace::stream_id(row.workspace_id),
        _ => domain::booking::stream_id(row.subject_id),
    }
}

/// The recipient's stream (contact or user).
fn recipient_stream(row: &Row) -> Option<String> {
    let id = row.recipient_id?;
    Some(match row.role {
        RecipientRole::Customer => domain::contact::stream_id(id),
        RecipientRole::Owner | RecipientRole::Staff => domain::user::stream_id(id),
    })
}

fn calendar_attachment(
    ws: &WorkspaceFacts,
    booking: &BookingFacts,
    kind: NotificationKind,
    now: DateTime<Utc>,
) -> Attachment {
    let cancelled = kind == NotificationKind::BookingCancelled;
    let summary = format!("{} at {}", booking.service, ws.name);
    let description = format!(
        "{} with {}. Manage your booking: {}",
        booking.service, booking.staff, booking.manage_url
    );
    let content = ics::calendar(&ics::CalendarEvent {
        booking_id: booking.booking_id,
        sequence: booking.sequence,
        start: booking.start,
        end: booking.end,
        summary: &summary,
        location: &ws.name,
        description: &description,
        cancelled,
        stamp: now,
    });
    Attachment {
        filename: if cancelled {
            "cancelled.ics"
        } else {
            "booking.ics"
        }
        .into(),
        content_type: ics::content_type(cancelled).into(),
        content: content.into_bytes(),
    }
}

pub(super) fn chrono_duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}
