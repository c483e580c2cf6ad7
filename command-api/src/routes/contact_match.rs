//! Finding the contact behind someone who is not logged in (a public booking, the contact
//! form, an inbound email or SMS), or creating it.
//!
//! An email names at most one contact per workspace: its reservation stream
//! (`contact-email-<workspace>-<email>`) says who holds it, and a new contact reserves its
//! email in the same append as its `ContactCreated`. Two requests for one new email cannot
//! both create a contact: the second one's append conflicts, it decides again and finds the
//! first one's contact.
//!
//! Phone numbers are not reserved (the domain keeps no such uniqueness), and a phone in an
//! event is personal data (encrypted), so the log cannot be searched by it. A sender known
//! only by phone (an SMS) is looked up in the contacts read model, after waiting briefly for
//! the read models to catch up with the log, and the match is checked against the contact's
//! own stream. Should the read models lag further (or a contact be created concurrently), a
//! second contact with that number may be created: a duplicate, never a lost message.

use domain::contact::{self, Contact, ContactAggregate, CreateContact};
use domain::reservation::{self, Reservation, ReservationAggregate, ReservationKey, Reserve};
use domain::values::{Email, PersonName, Phone};
use event_store::EventStore;
use projections::query::{self, PageRequest, Scope};
use uuid::Uuid;

use crate::command::Unit;
use crate::http::{ApiError, ApiResult};

/// What an email's reservation says: its loaded state (for a reservation in the same
/// append) and the live contact holding it.
pub struct EmailMatch {
    pub reservation: Reservation,
    pub contact: Option<Contact>,
}

/// The contact holding `email` in the workspace, if any (an erased one never matches).
pub async fn find_by_email(
    unit: &mut Unit,
    workspace_id: Uuid,
    email: &Email,
) -> ApiResult<EmailMatch> {
    let key = ReservationKey::ContactEmail {
        workspace_id,
        email: email.clone(),
    };
    let reservation = unit.load::<ReservationAggregate>(&key.stream_id()).await?;
    let contact = match reservation.holder {
        Some(holder) => unit
            .load::<ContactAggregate>(&contact::stream_id(holder))
            .await?
            .filter(|c| c.workspace_id == workspace_id && !c.erased),
        None => None,
    };
    Ok(EmailMatch {
        reservation,
        contact,
    })
}

/// How long a phone lookup waits for the read models to reach the log's head.
const READ_MODEL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits (at most [`READ_MODEL_WAIT`]) until every read model has applied what the log
/// holds now, so that a contact created a moment ago is found.
async fn catch_up_read_models(store: &EventStore) -> ApiResult<()> {
    if let Some(head) = store.feed_head().await? {
        if !projections::wait_for(store.pool(), head, READ_MODEL_WAIT).await? {
            tracing::warn!("read models lag behind the log; matching a phone number on older data");
        }
    }
    Ok(())
}

/// The oldest live contact of the workspace with this phone number, if the read model
/// knows one; the candidate is confirmed from its stream (loaded into `unit`).
pub async fn find_by_phone(
    unit: &mut Unit,
    workspace_id: Uuid,
    phone: &Phone,
) -> ApiResult<Option<Contact>> {
    catch_up_read_models(unit.store()).await?;
    let filter = query::contacts::ContactFilter {
        q: Some(phone.as_str().to_string()),
        page: PageRequest {
            limit: Some(200),
            cursor: None,
        },
    };
    let page =
        query::contacts::list(unit.store().pool(), &Scope::owner(workspace_id), &filter).await?;
    let candidates = page
        .items
        .iter()
        .filter(|c| !c.erased && c.phone.as_deref() == Some(phone.as_str()))
        .map(|c| c.id);
    for id in candidates {
        let found = unit
            .load::<ContactAggregate>(&contact::stream_id(id))
            .await?
            .filter(|c| c.workspace_id == workspace_id && !c.erased && c.phone() == Some(phone));
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Who wrote, as far as they told us.
#[derive(Debug, Clone)]
pub struct ContactDetails {
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// The contact these details belong to: matched by email when there is one, otherwise by
/// phone; a known contact is never changed by what a stranger typed. When there is no match,
/// the contact is created in `unit` (its email reserved in the same append).
pub async fn find_or_create(
    unit: &mut Unit,
    workspace_id: Uuid,
    details: &ContactDetails,
    new_contact_id: Uuid,
) -> ApiResult<Contact> {
    let mut reservation = None;
    if let Some(email) = &details.email {
        let matched = find_by_email(unit, workspace_id, email).await?;
        if let Some(found) = matched.contact {
            return Ok(found);
        }
        reservation = Some((email, matched.reservation));
    } else if let Some(phone) = &details.phone {
        if let Some(found) = find_by_phone(unit, workspace_id, phone).await? {
            return Ok(found);
        }
    }
    if let Some((email, current)) = reservation {
        let key = ReservationKey::ContactEmail {
            workspace_id,
            email: email.clone(),
        };
        let events = reservation::decide(
            &current,
            &Reserve {
                key: key.clone(),
                owner_id: new_contact_id,
            }
            .into(),
        )?;
        unit.append(reservation::STREAM_TYPE, key.stream_id(), &events);
    }
    let events = contact::decide(
        &None,
        &CreateContact {
            contact_id: new_contact_id,
            workspace_id,
            name: details.name.clone(),
            email: details.email.clone(),
            phone: details.phone.clone(),
        }
        .into(),
    )?;
    let created = events.iter().fold(None, contact::evolve);
    unit.append(
        contact::STREAM_TYPE,
        contact::stream_id(new_contact_id),
        &events,
    );
    created.ok_or_else(|| ApiError::internal("contact missing after creation"))
}
