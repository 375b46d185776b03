//! PostgreSQL's side of the shared core: the core's SQL, with its `?N`
//! parameters renumbered `$N`, runs on this backend's connections
//! ([`Conn`]), through its failover-aware reads and re-run-on-conflict
//! transactions ([`Db`]).
//!
//! Parameters are converted to the type PostgreSQL inferred for them (an id
//! compared with an INTEGER column is bound as INT4), so the shared SQL
//! needs no casts; text loses any U+0000, which PostgreSQL cannot store.

use async_trait::async_trait;
use tokio_postgres::types::{ToSql, Type};

use super::pool::Db as PgConn;
use super::PgDb;
use crate::core::{Arg, BoxFut, Conn, Db, Dialect, Row, Value};
use crate::{PoolUsage, Readiness, StoreError, StoreResult};

/// `?N` becomes `$N`; quoted text (`'...'`, `"..."`) is left as it is.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '?' && chars.peek().is_some_and(|c| c.is_ascii_digit()) => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(ch);
    }
    out
}

type Param = Box<dyn ToSql + Sync + Send>;

fn mismatch(arg: &Arg<'_>, ty: &Type) -> StoreError {
    StoreError::Internal(format!("cannot bind {arg:?} as {ty}"))
}

/// One argument as the Rust type that matches the parameter's SQL type.
fn param(arg: &Arg<'_>, ty: &Type) -> StoreResult<Param> {
    Ok(match *arg {
        // A typed NULL: the driver checks the Rust type against the SQL one.
        Arg::Null => match *ty {
            Type::INT8 => Box::new(None::<i64>) as Param,
            Type::INT4 => Box::new(None::<i32>),
            Type::INT2 => Box::new(None::<i16>),
            Type::BOOL => Box::new(None::<bool>),
            Type::FLOAT8 => Box::new(None::<f64>),
            Type::FLOAT4 => Box::new(None::<f32>),
            _ => Box::new(None::<String>),
        },
        Arg::Int(v) => match *ty {
            Type::INT8 => Box::new(v),
            Type::INT4 => Box::new(i32::try_from(v).map_err(|_| mismatch(arg, ty))?),
            Type::INT2 => Box::new(i16::try_from(v).map_err(|_| mismatch(arg, ty))?),
            Type::FLOAT8 => Box::new(v as f64),
            _ => return Err(mismatch(arg, ty)),
        },
        Arg::Bool(v) => Box::new(v),
        Arg::Real(v) => match *ty {
            Type::FLOAT4 => Box::new(v as f32),
            _ => Box::new(v),
        },
        Arg::Text(v) => Box::new(v.replace('\0', "\u{FFFD}")),
        Arg::Ids(ids) => Box::new(ids.to_vec()),
        Arg::Texts(words) => Box::new(
            words
                .iter()
                .map(|w| w.replace('\0', "\u{FFFD}"))
                .collect::<Vec<_>>(),
        ),
    })
}

fn values(row: &tokio_postgres::Row) -> StoreResult<Row> {
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let v = match *column.type_() {
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            ref other => {
                return Err(StoreError::Internal(format!(
                    "column {} has type {other}, which the core does not read",
                    column.name()
                )))
            }
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

impl PgConn<'_> {
    async fn prepared(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<(tokio_postgres::Statement, Vec<Param>)> {
        let sql = numbered(sql);
        let statement = self.statement(&sql).await?;
        if statement.params().len() != args.len() {
            return Err(StoreError::Internal(format!(
                "query takes {} parameters, {} given: {sql}",
                statement.params().len(),
                args.len()
            )));
        }
        let params = args
            .iter()
            .zip(statement.params())
            .map(|(a, ty)| param(a, ty))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((statement, params))
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

#[async_trait]
impl Conn for PgConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<Row>> {
        let (statement, params) = self.prepared(sql, args).await?;
        let rows = self.query_prepared(&statement, &refs(&params)).await?;
        rows.iter().map(values).collect()
    }

    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let (statement, params) = self.prepared(sql, args).await?;
        self.execute_prepared(&statement, &refs(&params)).await
    }
}

#[async_trait]
impl Db for PgDb {
    fn pool_usage(&self) -> PoolUsage {
        self.usage()
    }

    async fn readiness(&self) -> Readiness {
        self.readiness_now().await
    }

    async fn read<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        PgDb::read(self, (data, f), |db, (data, f)| {
            Box::pin(async move { f(&db, data).await })
        })
        .await
    }

    async fn write<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        PgDb::write(self, (data, f), |db, (data, f)| {
            Box::pin(async move { f(&db, data).await })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_renumbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT ?1, '?2', \"a?3\" WHERE x = ?12 AND y LIKE ?2 ESCAPE '\\'"),
            "SELECT $1, '?2', \"a?3\" WHERE x = $12 AND y LIKE $2 ESCAPE '\\'"
        );
    }
}
