//! Set-based writes: a batch of events becomes a few multi-row statements.
//!
//! Handlers do not run SQL themselves. For each event they add rows to a [`Plan`]: a row
//! is a JSON object for one statement, which reads all its rows as
//! `jsonb_populate_recordset(null::{s}.<table>, $1) r` (sent as typed arrays, see
//! [`arrays`]), and it names the [`Key`]s it writes and reads. The plan puts every row into the earliest *wave* after
//! every earlier row that wrote one of its keys (or read a key it writes). Within a wave no
//! key is touched twice, so its statements commute; the waves run in order, each statement
//! once with all its rows. A batch of thousands of events thus costs a few dozen
//! statements instead of thousands of round trips, and leaves exactly the tables that
//! applying the events one by one would (the rebuild-equality tests check that).
//!
//! A key must cover everything a row's statement touches or depends on: the row it updates,
//! and for a statement that reaches other rows (an erasure updates every row of a contact,
//! a low-stock alert reads the item's name) a key for that group, which the rows writing
//! into the group name too.
//!
//! A statement that reaches rows by a non-unique column (an erasure, by `contact_id`) takes
//! its ids as `= any(array(select …))` rather than joining the rows: a rebuild's fresh tables
//! have no statistics yet, and for the join the planner chose a scan of the whole table.

mod arrays;

use std::collections::HashMap;

use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

/// Something rows of a read model can touch: a kind of row or group of rows and its id,
/// e.g. `Key("booking", id)` or `Key("booking_notes_of_contact", contact_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key(pub &'static str, pub Uuid);

/// A statement template: `{s}` stands for the schema written to, `$1` for the rows.
pub(crate) type Statement = &'static str;

/// The writes of one batch, ordered into waves.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    waves: Vec<Wave>,
    last_write: HashMap<Key, usize>,
    last_read: HashMap<Key, usize>,
    /// Where the last row of [`Plan::add_overwrite`] for a key waits: wave, statement, index.
    overwritable: HashMap<Key, (usize, Statement, usize)>,
    rows: usize,
}

/// Rows grouped by statement, in the order the statements first appeared.
type Wave = Vec<(Statement, Vec<Value>)>;

impl Plan {
    /// Adds `row` to `statement`; the row writes `writes`.
    pub(crate) fn add(&mut self, statement: Statement, writes: &[Key], row: Value) {
        self.add_reading(statement, writes, &[], row);
    }

    /// Adds `row` to `statement`, a statement that sets its columns from the row alone
    /// (`set quantity = r.quantity, version = r.version`): when the last thing done to `key`
    /// is a row of the same statement, still waiting and read by nobody since, the new row
    /// takes its place, as applying both would leave what the new one sets. Twenty stock
    /// movements of one item in a batch become one update instead of twenty waves.
    pub(crate) fn add_overwrite(&mut self, statement: Statement, key: Key, row: Value) {
        if let Some(&(wave, waiting, index)) = self.overwritable.get(&key) {
            let untouched = self.last_write.get(&key) == Some(&wave)
                && self.last_read.get(&key).is_none_or(|r| *r < wave);
            if waiting == statement && untouched {
                if let Some((_, rows)) = self.waves[wave].iter_mut().find(|(s, _)| *s == statement)
                {
                    rows[index] = row;
                    return;
                }
            }
        }
        let (wave, index) = self.place(statement, &[key], &[], row);
        self.overwritable.insert(key, (wave, statement, index));
    }

    /// Adds `row` to `statement`; the row writes `writes` and depends on `reads`.
    pub(crate) fn add_reading(
        &mut self,
        statement: Statement,
        writes: &[Key],
        reads: &[Key],
        row: Value,
    ) {
        self.place(statement, writes, reads, row);
    }

    /// Puts the row into its wave; returns the wave and the row's index in its statement.
    fn place(
        &mut self,
        statement: Statement,
        writes: &[Key],
        reads: &[Key],
        row: Value,
    ) -> (usize, usize) {
        let after = |wave: Option<&usize>| wave.map_or(0, |w| w + 1);
        let wave = writes
            .iter()
            .map(|k| after(self.last_write.get(k)).max(after(self.last_read.get(k))))
            .chain(reads.iter().map(|k| after(self.last_write.get(k))))
            .max()
            .unwrap_or(0);
        for key in writes {
            self.last_write.insert(*key, wave);
        }
        for key in reads {
            let last = self.last_read.entry(*key).or_insert(wave);
            *last = (*last).max(wave);
        }
        if self.waves.len() <= wave {
            self.waves.resize_with(wave + 1, Vec::new);
        }
        let groups = &mut self.waves[wave];
        self.rows += 1;
        match groups.iter_mut().find(|(s, _)| *s == statement) {
            Some((_, rows)) => {
                rows.push(row);
                (wave, rows.len() - 1)
            }
            None => {
                groups.push((statement, vec![row]));
                (wave, 0)
            }
        }
    }

    /// How many rows the plan holds.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Runs the plan against `schema`: one statement per wave and statement, its rows sent
    /// as typed arrays where the table's column types allow ([`arrays`]).
    pub(crate) async fn execute(
        self,
        conn: &mut PgConnection,
        schema: &str,
    ) -> Result<(), PlanError> {
        let mut sql: HashMap<Statement, String> = HashMap::new();
        for (wave, groups) in self.waves.into_iter().enumerate() {
            for (statement, rows) in groups {
                let fail = |source| PlanError {
                    wave,
                    rows: rows.len(),
                    statement: first_line(statement),
                    source,
                };
                let done = match arrays::prepare(conn, statement, schema, &rows)
                    .await
                    .map_err(fail)?
                {
                    Some((text, arguments)) => {
                        sqlx::query_with(&text, arguments).execute(&mut *conn).await
                    }
                    None => {
                        let text = sql
                            .entry(statement)
                            .or_insert_with(|| statement.replace("{s}", schema));
                        sqlx::query(text)
                            .bind(Json(&rows))
                            .execute(&mut *conn)
                            .await
                    }
                };
                done.map_err(fail)?;
            }
        }
        Ok(())
    }
}

/// A statement of a plan that PostgreSQL refused.
#[derive(Debug, thiserror::Error)]
#[error("wave {wave}, {rows} row(s) of `{statement} …`: {source}")]
pub(crate) struct PlanError {
    wave: usize,
    rows: usize,
    statement: &'static str,
    source: sqlx::Error,
}

fn first_line(statement: Statement) -> &'static str {
    statement.trim().lines().next().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &'static str, n: u128) -> Key {
        Key(kind, Uuid::from_u128(n))
    }

    fn shape(plan: &Plan) -> Vec<Vec<(Statement, usize)>> {
        plan.waves
            .iter()
            .map(|w| w.iter().map(|(s, rows)| (*s, rows.len())).collect())
            .collect()
    }

    #[test]
    fn rows_of_different_keys_share_a_wave_and_a_statement() {
        let mut plan = Plan::default();
        for n in 0..3 {
            plan.add("insert", &[key("booking", n)], json!({ "n": n }));
        }
        plan.add("update", &[key("booking", 9)], json!({}));
        assert_eq!(shape(&plan), vec![vec![("insert", 3), ("update", 1)]]);
        assert_eq!(plan.rows(), 4);
    }

    #[test]
    fn a_key_written_again_waits_for_the_next_wave() {
        let mut plan = Plan::default();
        plan.add("insert", &[key("booking", 1)], json!({}));
        plan.add("update", &[key("booking", 1)], json!({}));
        plan.add("update", &[key("booking", 1)], json!({}));
        plan.add("insert", &[key("booking", 2)], json!({}));
        assert_eq!(
            shape(&plan),
            vec![
                vec![("insert", 2)],
                vec![("update", 1)],
                vec![("update", 1)]
            ]
        );
    }

    #[test]
    fn reads_wait_for_writes_and_writes_wait_for_reads() {
        let mut plan = Plan::default();
        plan.add("name", &[key("item_name", 1)], json!({}));
        plan.add_reading("alert", &[key("low", 1)], &[key("item_name", 1)], json!({}));
        // A rename after the alert must not run before it (the alert quotes the old name).
        plan.add("rename", &[key("item_name", 1)], json!({}));
        // Two reads of the same key do not order each other.
        plan.add_reading("alert", &[key("low", 2)], &[key("item_name", 3)], json!({}));
        plan.add_reading("alert", &[key("low", 3)], &[key("item_name", 3)], json!({}));
        assert_eq!(
            shape(&plan),
            vec![
                vec![("name", 1), ("alert", 2)],
                vec![("alert", 1)],
                vec![("rename", 1)]
            ]
        );
    }

    #[test]
    fn an_overwrite_replaces_the_waiting_row_of_its_statement_and_key() {
        let mut plan = Plan::default();
        plan.add("insert", &[key("item", 1)], json!({}));
        for n in 0..5 {
            plan.add_overwrite("set", key("item", 1), json!({ "n": n }));
        }
        assert_eq!(shape(&plan), vec![vec![("insert", 1)], vec![("set", 1)]]);
        assert_eq!(plan.waves[1][0].1, vec![json!({ "n": 4 })]);
        // Another statement in between: the next overwrite waits for it.
        plan.add_overwrite("version", key("item", 1), json!({}));
        plan.add_overwrite("set", key("item", 1), json!({ "n": 5 }));
        // A read of the key keeps the row it read.
        plan.add_reading("alert", &[key("alert", 9)], &[key("item", 1)], json!({}));
        plan.add_overwrite("set", key("item", 1), json!({ "n": 6 }));
        assert_eq!(
            shape(&plan),
            vec![
                vec![("insert", 1)],
                vec![("set", 1)],
                vec![("version", 1)],
                vec![("set", 1)],
                vec![("alert", 1)],
                vec![("set", 1)]
            ]
        );
        assert_eq!(plan.waves[3][0].1, vec![json!({ "n": 5 })]);
    }

    #[test]
    fn a_row_writing_several_keys_goes_after_all_of_them() {
        let mut plan = Plan::default();
        plan.add("a", &[key("booking", 1)], json!({}));
        plan.add("a", &[key("booking", 1)], json!({}));
        plan.add("b", &[key("notes_of", 7)], json!({}));
        plan.add("c", &[key("booking", 2), key("notes_of", 7)], json!({}));
        plan.add("d", &[key("booking", 1), key("booking", 2)], json!({}));
        assert_eq!(
            shape(&plan),
            vec![
                vec![("a", 1), ("b", 1)],
                vec![("a", 1), ("c", 1)],
                vec![("d", 1)]
            ]
        );
    }
}
