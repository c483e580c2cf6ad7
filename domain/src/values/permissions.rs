//! Roles and staff permissions (`bookings`, `inbox`, `contacts`, `inventory`, `forms`).

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Owner or staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Staff,
}

/// One area of the product a staff member may be allowed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Bookings,
    Inbox,
    Contacts,
    Inventory,
    Forms,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 5] = [
        Permission::Bookings,
        Permission::Inbox,
        Permission::Contacts,
        Permission::Inventory,
        Permission::Forms,
    ];

    /// Parse a permission name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        match input.trim() {
            "bookings" => Ok(Permission::Bookings),
            "inbox" => Ok(Permission::Inbox),
            "contacts" => Ok(Permission::Contacts),
            "inventory" => Ok(Permission::Inventory),
            "forms" => Ok(Permission::Forms),
            other => Err(DomainError::invalid(
                "permissions",
                format!(
                    "unknown permission {other:?} (bookings, inbox, contacts, inventory, forms)"
                ),
            )),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Bookings => "bookings",
            Permission::Inbox => "inbox",
            Permission::Contacts => "contacts",
            Permission::Inventory => "inventory",
            Permission::Forms => "forms",
        }
    }
}

/// The set of permissions, serialised as the contract's object of five booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    #[serde(default)]
    bookings: bool,
    #[serde(default)]
    inbox: bool,
    #[serde(default)]
    contacts: bool,
    #[serde(default)]
    inventory: bool,
    #[serde(default)]
    forms: bool,
}

impl Permissions {
    /// No permission at all.
    pub fn none() -> Self {
        Permissions::default()
    }

    /// Every permission (what an owner has).
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// Whether `permission` is granted.
    pub fn has(&self, permission: Permission) -> bool {
        match permission {
            Permission::Bookings => self.bookings,
            Permission::Inbox => self.inbox,
            Permission::Contacts => self.contacts,
            Permission::Inventory => self.inventory,
            Permission::Forms => self.forms,
        }
    }

    /// The same set with `permission` granted.
    pub fn with(mut self, permission: Permission) -> Self {
        match permission {
            Permission::Bookings => self.bookings = true,
            Permission::Inbox => self.inbox = true,
            Permission::Contacts => self.contacts = true,
            Permission::Inventory => self.inventory = true,
            Permission::Forms => self.forms = true,
        }
        self
    }

    /// Parse a list of permission names.
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, DomainError> {
        names
            .into_iter()
            .try_fold(Permissions::none(), |set, name| {
                Ok(set.with(Permission::parse(name)?))
            })
    }

    /// The granted permissions.
    pub fn granted(&self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.has(*p))
            .collect()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Permissions::none(), Permissions::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_serialise_as_five_booleans() {
        let set = Permissions::none()
            .with(Permission::Bookings)
            .with(Permission::Forms);
        assert_eq!(
            serde_json::to_value(set).unwrap(),
            serde_json::json!({"bookings": true, "inbox": false, "contacts": false, "inventory": false, "forms": true})
        );
        assert_eq!(set.granted(), vec![Permission::Bookings, Permission::Forms]);
    }

    #[test]
    fn an_unknown_permission_is_refused() {
        assert!(Permissions::parse_list(["bookings", "payroll"]).is_err());
        assert_eq!(
            Permissions::parse_list(Permission::ALL.map(Permission::as_str)).unwrap(),
            Permissions::all()
        );
        assert!(serde_json::from_str::<Permissions>(r#"{"payroll": true}"#).is_err());
    }
}
