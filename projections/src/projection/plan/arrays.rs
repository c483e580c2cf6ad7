//! A statement's rows as typed arrays rather than one jsonb document.
//!
//! Handlers describe rows as JSON objects (readable, and one shape for every table), and a
//! statement reads them with `jsonb_populate_recordset(null::{s}.<table>, $1) r`. Parsing
//! that document and looking every column up in it costs PostgreSQL more than the write
//! itself (about 25 µs a row for a booking). So before a statement runs, its rows are
//! turned into one binary array per column, typed from the table's own columns, and the
//! call is replaced by `unnest($1::uuid[], $2::text[], …) as r(id, status, …)`. The SQL
//! reads `r.<column>` either way. A statement whose columns do not all have a type handled
//! here runs with the jsonb document as written.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::types::Json;
use sqlx::{Arguments, PgConnection};
use uuid::Uuid;

const CALL: &str = "jsonb_populate_recordset(null::{s}.";
const CALL_END: &str = ", $1) r";

/// A column type rows can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Uuid,
    Text,
    Integer,
    Bigint,
    Boolean,
    Timestamptz,
    Date,
    Jsonb,
    /// `date[]`, sent as the text of the array (`{2026-03-01,2026-03-02}`) and cast by
    /// the statement (`r.calendar_dates::date[]`): arrays of arrays cannot be ragged.
    DateArray,
}

impl ColumnType {
    fn of(sql_type: &str) -> Option<Self> {
        Some(match sql_type {
            "uuid" => ColumnType::Uuid,
            "text" => ColumnType::Text,
            "integer" => ColumnType::Integer,
            "bigint" => ColumnType::Bigint,
            "boolean" => ColumnType::Boolean,
            "timestamp with time zone" => ColumnType::Timestamptz,
            "date" => ColumnType::Date,
            "jsonb" => ColumnType::Jsonb,
            "date[]" => ColumnType::DateArray,
            _ => return None,
        })
    }

    fn array(self) -> &'static str {
        match self {
            ColumnType::Uuid => "uuid[]",
            ColumnType::Text | ColumnType::DateArray => "text[]",
            ColumnType::Integer => "int4[]",
            ColumnType::Bigint => "int8[]",
            ColumnType::Boolean => "bool[]",
            ColumnType::Timestamptz => "timestamptz[]",
            ColumnType::Date => "date[]",
            ColumnType::Jsonb => "jsonb[]",
        }
    }
}

/// The column types of a read-model table, by name.
type Columns = Arc<HashMap<String, ColumnType>>;

/// Column types per `schema.table`, looked up once per process. A read model's column keeps
/// its type for good (a new type is a new column and a rebuild), and a rebuild's tables,
/// made by the same SQL function, have the types of the live ones they replace.
fn known() -> &'static Mutex<HashMap<String, Columns>> {
    static KNOWN: OnceLock<Mutex<HashMap<String, Columns>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

async fn columns(conn: &mut PgConnection, table: &str) -> Result<Columns, sqlx::Error> {
    if let Some(columns) = known().lock().ok().and_then(|k| k.get(table).cloned()) {
        return Ok(columns);
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select attname::text, format_type(atttypid, atttypmod) from pg_attribute
          where attrelid = $1::regclass and attnum > 0 and not attisdropped",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    let columns: Columns = Arc::new(
        rows.into_iter()
            .filter_map(|(name, sql_type)| ColumnType::of(&sql_type).map(|t| (name, t)))
            .collect(),
    );
    if let Ok(mut known) = known().lock() {
        known.insert(table.to_owned(), columns.clone());
    }
    Ok(columns)
}

/// The statement (with `schema` filled in) and its rows as typed arrays, or `None` when
/// it has to run with the jsonb document.
pub(super) async fn prepare(
    conn: &mut PgConnection,
    template: &str,
    schema: &str,
    rows: &[Value],
) -> Result<Option<(String, PgArguments)>, sqlx::Error> {
    let Some(start) = template.find(CALL) else {
        return Ok(None);
    };
    let after = &template[start + CALL.len()..];
    let Some(end) = after.find(CALL_END) else {
        return Ok(None);
    };
    let table = &after[..end];
    let columns = columns(conn, &format!("{schema}.{table}")).await?;
    let names: BTreeSet<&str> = rows
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|row| row.keys().map(String::as_str))
        .collect();
    let mut arguments = PgArguments::default();
    let mut typed = Vec::with_capacity(names.len());
    for (n, name) in names.iter().enumerate() {
        let Some(column) = columns.get(*name) else {
            return Ok(None);
        };
        if add_column(&mut arguments, *column, rows, name).is_none() {
            return Ok(None);
        }
        typed.push(format!("${}::{}", n + 1, column.array()));
    }
    let call = format!(
        "unnest({}) as r({})",
        typed.join(", "),
        names.iter().copied().collect::<Vec<_>>().join(", ")
    );
    let sql = format!(
        "{}{call}{}",
        &template[..start],
        &template[start + CALL.len() + end + CALL_END.len()..]
    );
    Ok(Some((sql.replace("{s}", schema), arguments)))
}

/// Binds the column `name` of every row as one array; `None` if a value does not fit.
fn add_column(
    arguments: &mut PgArguments,
    column: ColumnType,
    rows: &[Value],
    name: &str,
) -> Option<()> {
    let values = rows
        .iter()
        .map(|row| row.get(name).filter(|v| !v.is_null()));
    let added = match column {
        ColumnType::Uuid => arguments.add(collect(values, |v| v.as_str()?.parse::<Uuid>().ok())?),
        ColumnType::Text => arguments.add(collect(values, |v| v.as_str().map(str::to_owned))?),
        ColumnType::Integer => arguments.add(collect(values, |v| i32::try_from(v.as_i64()?).ok())?),
        ColumnType::Bigint => arguments.add(collect(values, Value::as_i64)?),
        ColumnType::Boolean => arguments.add(collect(values, Value::as_bool)?),
        ColumnType::Timestamptz => arguments.add(collect(values, |v| {
            DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })?),
        ColumnType::Date => {
            arguments.add(collect(values, |v| v.as_str()?.parse::<NaiveDate>().ok())?)
        }
        ColumnType::Jsonb => arguments.add(collect(values, |v| Some(Json(v.clone())))?),
        ColumnType::DateArray => arguments.add(collect(values, |v| {
            let dates = v
                .as_array()?
                .iter()
                .map(|d| d.as_str()?.parse::<NaiveDate>().ok().map(|d| d.to_string()))
                .collect::<Option<Vec<_>>>()?;
            Some(format!("{{{}}}", dates.join(",")))
        })?),
    };
    added.ok()
}

/// The values of one column, `None` (SQL null) where a row has none; `None` overall if a
/// present value does not convert.
fn collect<'a, T>(
    values: impl Iterator<Item = Option<&'a Value>>,
    convert: impl Fn(&'a Value) -> Option<T>,
) -> Option<Vec<Option<T>>> {
    values
        .map(|value| match value {
            None => Some(None),
            Some(value) => convert(value).map(Some),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sqlx::PgPool;

    const SET_STATUS: &str = "
        update {s}.bookings b set status = r.status, version = r.version
        from jsonb_populate_recordset(null::{s}.bookings, $1) r where b.id = r.id";

    #[sqlx::test(migrator = "event_store::MIGRATOR")]
    async fn rows_go_as_one_typed_array_per_column(pool: PgPool) {
        let mut conn = pool.acquire().await.unwrap();
        let rows = [
            json!({ "id": Uuid::from_u128(1), "status": "confirmed", "version": 2 }),
            json!({ "id": Uuid::from_u128(2), "status": null, "version": 3 }),
        ];
        let (sql, _) = prepare(&mut conn, SET_STATUS, "rm_bookings", &rows)
            .await
            .unwrap()
            .expect("typed arrays");
        assert!(
            sql.contains(
                "from unnest($1::uuid[], $2::text[], $3::int8[]) as r(id, status, version) where"
            ),
            "{sql}"
        );
        assert!(sql.contains("update rm_bookings.bookings b"), "{sql}");
    }

    #[sqlx::test(migrator = "event_store::MIGRATOR")]
    async fn a_row_that_does_not_fit_its_columns_keeps_the_jsonb_document(pool: PgPool) {
        let mut conn = pool.acquire().await.unwrap();
        for row in [
            json!({ "id": Uuid::from_u128(1), "no_such_column": 1 }),
            json!({ "id": "not a uuid" }),
        ] {
            let prepared = prepare(&mut conn, SET_STATUS, "rm_bookings", &[row])
                .await
                .unwrap();
            assert!(prepared.is_none());
        }
    }
}
