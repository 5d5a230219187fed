//! Fresh schemas on the PostgreSQL test server (`INVITE_TEST_POSTGRES_URL`, as set by
//! `scripts/with-postgres`). Each test gets its own schema, so tests run in parallel; the
//! schema is dropped when the test's store goes away.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support"
)]

use std::io::Write;
use std::sync::Arc;

use invite_core::Store;
use invite_core::store::postgres::{PostgresOptions, PostgresStore};

/// The variable naming the test server's database.
pub const URL_VAR: &str = "INVITE_TEST_POSTGRES_URL";

/// The test server's URL, or `None` after a loud `SKIPPED` line.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Straight to the process's stderr: libtest does not capture it, so the skip
            // shows in every `cargo test` run, not only with `--nocapture`.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {URL_VAR} not set (run through scripts/with-postgres)"
            );
            None
        }
    }
}

/// A random schema name.
pub fn schema_name() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("t_{hex}")
}

/// The outbox key of every test service on PostgreSQL (which requires one).
pub const OUTBOX_KEY: [u8; 32] = [9; 32];

/// A service on `store` with `config` and [`OUTBOX_KEY`].
#[allow(dead_code, reason = "not every test binary builds its own service")]
pub fn service(
    store: std::sync::Arc<dyn Store>,
    config: invite_core::Config,
) -> invite_core::Result<invite_core::InviteService> {
    invite_core::InviteService::builder(store)
        .config(config)
        .outbox_key(OUTBOX_KEY)
        .build()
}

/// One test's schema; dropped (with everything in it) on drop unless detached.
pub struct TestDb {
    pub url: String,
    pub schema: String,
    owned: bool,
}

impl TestDb {
    /// A new schema name on the test server (created by the first store opened on it),
    /// or `None` (skipped) without a server.
    pub fn new() -> Option<TestDb> {
        Some(TestDb {
            url: url()?,
            schema: schema_name(),
            owned: true,
        })
    }

    /// An existing schema another process owns (never dropped by this handle).
    pub fn attach(url: String, schema: String) -> TestDb {
        TestDb {
            url,
            schema,
            owned: false,
        }
    }

    /// Options for this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::default().schema(self.schema.clone())
    }

    /// A store on this schema (migrated).
    pub fn store(&self) -> PostgresStore {
        self.store_with(self.options())
    }

    /// A store on this schema with other options.
    pub fn store_with(&self, options: PostgresOptions) -> PostgresStore {
        PostgresStore::open_with(&self.url, options.schema(self.schema.clone())).unwrap()
    }

    /// A plain client whose `search_path` is this schema.
    pub fn client(&self) -> postgres::Client {
        let mut config: postgres::Config = self.url.parse().unwrap();
        config.options(&format!("-c search_path={}", self.schema));
        config.connect(postgres::NoTls).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A store that owns its schema: the schema is dropped with the store.
pub struct ScopedStore {
    pub store: PostgresStore,
    pub db: TestDb,
}

impl ScopedStore {
    /// A fresh schema and a store on it, or `None` (skipped).
    pub fn fresh() -> Option<ScopedStore> {
        let db = TestDb::new()?;
        Some(ScopedStore {
            store: db.store(),
            db,
        })
    }

    /// As `fresh`, with a pool of `n` connections.
    pub fn fresh_with_pool(n: u32) -> Option<ScopedStore> {
        let db = TestDb::new()?;
        Some(ScopedStore {
            store: db.store_with(PostgresOptions::default().max_connections(n)),
            db,
        })
    }

    /// The factory the contract suite and the fixtures take.
    pub fn arc() -> Option<Arc<dyn Store>> {
        Some(Arc::new(Self::fresh()?) as Arc<dyn Store>)
    }
}

impl Store for ScopedStore {
    fn begin(&self) -> invite_core::Result<Box<dyn invite_core::store::Transaction + '_>> {
        self.store.begin()
    }

    fn begin_read(&self) -> invite_core::Result<Box<dyn invite_core::store::Transaction + '_>> {
        self.store.begin_read()
    }

    fn kind(&self) -> &'static str {
        self.store.kind()
    }
}
