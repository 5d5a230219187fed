//! Pooled connections that keep their prepared statements.
//!
//! Each connection caches one server-side prepared statement per SQL text, so after
//! warm-up a repository call costs one round trip (bind + execute), not two
//! (parse + describe first).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

/// Opens connections for the pool.
#[derive(Debug)]
pub(super) struct Manager {
    config: postgres::Config,
    round_trips: Arc<AtomicU64>,
}

impl Manager {
    pub(super) fn new(config: postgres::Config, round_trips: Arc<AtomicU64>) -> Self {
        Manager {
            config,
            round_trips,
        }
    }
}

/// A client, its statement cache, and whether it may be reused.
pub(super) struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    round_trips: Arc<AtomicU64>,
    /// Set when the session state is unknown (a failed rollback): the pool drops it.
    pub(super) broken: bool,
}

impl Conn {
    fn count(&self, n: u64) {
        self.round_trips.fetch_add(n, Ordering::Relaxed);
    }

    /// The cached prepared statement for `sql`, preparing it on first use.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        self.count(1);
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a cached statement and returns its rows.
    pub(super) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.count(1);
        self.client.query(&statement, params)
    }

    /// Runs a cached statement and returns how many rows it touched.
    pub(super) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.count(1);
        self.client.execute(&statement, params)
    }

    /// Runs text through the simple query protocol (several statements, one round trip).
    pub(super) fn simple(
        &mut self,
        sql: &str,
    ) -> Result<Vec<postgres::SimpleQueryMessage>, postgres::Error> {
        self.count(1);
        self.client.simple_query(sql)
    }

    /// The client itself, for migrations.
    pub(super) fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
            round_trips: Arc::clone(&self.round_trips),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.simple("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}
