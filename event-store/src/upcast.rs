//! Schema evolution: old payloads are brought to the current shape on read, so stored
//! events never need rewriting.

use std::collections::HashMap;
use std::sync::Arc;

/// One step: takes a payload of `(event_type, version)` and returns it at `version + 1`.
pub type UpcastFn = Arc<dyn Fn(serde_json::Value) -> serde_json::Value + Send + Sync>;

/// The registry of upcasting steps, keyed by `(event_type, schema_version)`.
///
/// Reading an event applies the steps one version at a time until no step is registered
/// for its current version.
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<(String, i32), UpcastFn>,
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step from `from_version` to `from_version + 1` for `event_type`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from_version: i32,
        step: impl Fn(serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        self.steps
            .insert((event_type.into(), from_version), Arc::new(step));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Brings `data` from `version` up to the newest registered version; returns the new
    /// payload and version.
    pub fn upcast(
        &self,
        event_type: &str,
        mut version: i32,
        mut data: serde_json::Value,
    ) -> (serde_json::Value, i32) {
        if self.steps.is_empty() {
            return (data, version);
        }
        // Cloning the type into the key is cheap next to decoding; keeps the map simple.
        let mut key = (event_type.to_owned(), version);
        while let Some(step) = self.steps.get(&key) {
            data = step(data);
            version += 1;
            key.1 = version;
        }
        (data, version)
    }
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upcasters")
            .field("steps", &self.steps.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_are_upcast_step_by_step_to_the_newest_version() {
        let upcasters = Upcasters::new()
            .register("BookingCreated", 1, |mut v| {
                v["notes"] = json!("");
                v
            })
            .register("BookingCreated", 2, |mut v| {
                v["source"] = json!("staff");
                v
            });
        let (data, version) = upcasters.upcast("BookingCreated", 1, json!({"id": 1}));
        assert_eq!(version, 3);
        assert_eq!(data, json!({"id": 1, "notes": "", "source": "staff"}));
    }

    #[test]
    fn current_payloads_and_other_types_are_left_alone() {
        let upcasters = Upcasters::new().register("A", 1, |_| json!("changed"));
        assert_eq!(upcasters.upcast("A", 2, json!(1)), (json!(1), 2));
        assert_eq!(upcasters.upcast("B", 1, json!(1)), (json!(1), 1));
    }
}
