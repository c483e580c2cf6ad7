//! CareOps read models: each projection owns its tables and a feed checkpoint written in
//! the same transaction as its changes. The read models themselves arrive with the
//! projections issue; this crate already carries the process entry point.
