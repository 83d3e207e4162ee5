//! LittlePBX persistence.
//!
//! Invariants:
//! - This is the only crate that speaks SQL. Callers get domain values or plain records.
//! - Every operation on org data takes an [`OrgId`] that the caller took from a session or an
//!   API key; queries filter on it, so another org's rows are "not found".
//! - Every operation that writes more than one row runs in one transaction.
//! - The org configuration lives in two layers of the same tables (`layer` column): the admin
//!   edits `draft`; FreeSWITCH is served `applied`.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admins;
pub mod apply;
pub mod cdr;
mod convert;
pub mod desk_phones;
pub mod draft;
pub mod entities;
pub mod freeswitch_db;
pub mod fs_commands;
pub mod history;
pub mod instances;
pub mod jobs;
pub mod orgs;
pub mod provisioning;
pub mod snapshot;
pub mod telephony;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, Statement,
};

pub use domain;

/// An org's database id. Only the store and the session/key layer create these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct OrgId(pub i64);

/// The two layers of an org's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Draft,
    Applied,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Draft => "draft",
            Layer::Applied => "applied",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist for this org. The text names the object, e.g. "extension 101".
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with existing data; the text says how, for a person.
    #[error("{0}")]
    Conflict(String),
    /// The object was changed by someone else since it was read (optimistic concurrency).
    #[error("{what} was changed by someone else; reload it and try again")]
    Stale { what: String, current_revision: i64 },
    /// The draft cannot be applied; each issue names its field.
    #[error("the configuration has {} issue(s)", .0.len())]
    Invalid(Vec<domain::Issue>),
    /// The database holds a value the domain refuses: a bug or a manual edit, never user input.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database the URL selects. Anything else is refused so that a typo never silently
/// creates a new empty SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    MySql,
}

impl DatabaseKind {
    pub fn from_url(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(DatabaseKind::Sqlite),
            "mysql" | "mariadb" => Ok(DatabaseKind::MySql),
            _ => Err(format!(
                "unsupported database URL scheme \"{scheme}\": use sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DATABASE"
            )),
        }
    }
}

/// The handle every operation goes through.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// One connection of its own for [`Store::probe`], so that a busy pool never looks like a
    /// database that is down.
    probe: DatabaseConnection,
    #[cfg(feature = "fault-injection")]
    fail_at: std::sync::Arc<std::sync::Mutex<Option<apply::Step>>>,
}

impl Store {
    /// Connects to `url` (`sqlite://...?mode=rwc` or `mysql://...`); fails when the database
    /// does not answer.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let db = Database::connect(pool_options(url)?).await?;
        let probe = Database::connect(probe_options(url)?).await?;
        Ok(Self::from_connections(db, probe))
    }

    /// Prepares the connections without opening any: the first query opens them. How the
    /// server starts while its database is down (it serves FreeSWITCH from its snapshot).
    pub async fn connect_lazily(url: &str) -> Result<Self, StoreError> {
        let mut options = pool_options(url)?;
        options.connect_lazy(true);
        let mut probe = probe_options(url)?;
        probe.connect_lazy(true);
        let db = Database::connect(options).await?;
        let probe = Database::connect(probe).await?;
        Ok(Self::from_connections(db, probe))
    }

    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self::from_connections(db.clone(), db)
    }

    fn from_connections(db: DatabaseConnection, probe: DatabaseConnection) -> Self {
        Self {
            db,
            probe,
            #[cfg(feature = "fault-injection")]
            fail_at: Default::default(),
        }
    }

    /// Runs every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        use migrations::MigratorTrait;
        migrations::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Number of migrations not applied yet (0 when the schema is current).
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        use migrations::MigratorTrait;
        Ok(migrations::Migrator::get_pending_migrations(&self.db)
            .await?
            .len())
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// A round trip on the probe's own connection: does the database answer at all.
    pub async fn probe(&self) -> Result<(), StoreError> {
        self.probe.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn kind(&self) -> DatabaseKind {
        match self.backend() {
            DbBackend::Sqlite => DatabaseKind::Sqlite,
            _ => DatabaseKind::MySql,
        }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.probe.close().await?;
        self.db.close().await?;
        Ok(())
    }

    /// Test support: make the next transaction that reaches `step` fail there.
    #[cfg(feature = "fault-injection")]
    pub fn fail_next_at(&self, step: apply::Step) {
        if let Ok(mut guard) = self.fail_at.lock() {
            *guard = Some(step);
        }
    }

    /// Fails when a test asked for a failure at `step`; a no-op in production builds.
    fn checkpoint(&self, _step: apply::Step) -> StoreResult<()> {
        #[cfg(feature = "fault-injection")]
        if let Ok(mut guard) = self.fail_at.lock() {
            if *guard == Some(_step) {
                *guard = None;
                return Err(StoreError::Db(DbErr::Custom(format!(
                    "injected failure at {_step:?}"
                ))));
            }
        }
        Ok(())
    }
}

/// The pool every operation uses.
fn pool_options(url: &str) -> Result<ConnectOptions, StoreError> {
    let kind = DatabaseKind::from_url(url).map_err(StoreError::Conflict)?;
    let mut options = ConnectOptions::new(driver_url(url));
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if kind == DatabaseKind::Sqlite {
        // WAL lets readers run beside the one writer; the busy timeout makes a second
        // writer wait instead of failing at once.
        options
            .max_connections(8)
            .map_sqlx_sqlite_opts(sqlite_options);
    } else {
        options.max_connections(32);
    }
    Ok(options)
}

/// The probe's single connection: short timeouts, so that "no answer" is known within a second.
fn probe_options(url: &str) -> Result<ConnectOptions, StoreError> {
    let kind = DatabaseKind::from_url(url).map_err(StoreError::Conflict)?;
    let mut options = ConnectOptions::new(driver_url(url));
    options
        .sqlx_logging(false)
        .min_connections(0)
        .max_connections(1)
        .connect_timeout(Duration::from_millis(900))
        .acquire_timeout(Duration::from_millis(900));
    if kind == DatabaseKind::Sqlite {
        options.map_sqlx_sqlite_opts(sqlite_options);
    }
    Ok(options)
}

fn sqlite_options(
    opts: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
}

/// `mariadb://` is our alias; the driver only knows `mysql://`.
fn driver_url(url: &str) -> String {
    match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    }
}

impl StoreError {
    /// True when the database did not answer (down, unreachable, too slow, connection lost),
    /// as opposed to an answer that refused the operation.
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::{error::RuntimeErr, sqlx::Error as SqlxError};
        let runtime = match self {
            StoreError::Db(DbErr::ConnectionAcquire(_)) => return true,
            StoreError::Db(DbErr::Conn(_)) => return true,
            StoreError::Db(DbErr::Exec(err) | DbErr::Query(err)) => err,
            _ => return false,
        };
        matches!(runtime, RuntimeErr::SqlxError(err) if matches!(
            **err,
            SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::Protocol(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed
        ))
    }
}

/// Milliseconds since the Unix epoch, the unit of every time column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Bumps the global XML epoch in the caller's transaction. Every instance polls the epoch and
/// reloads org snapshots when it moves, so a change made through any instance reaches all.
pub(crate) async fn bump_xml_epoch(txn: &DatabaseTransaction) -> StoreResult<()> {
    txn.execute_raw(Statement::from_string(
        txn.get_database_backend(),
        "UPDATE xml_epoch SET epoch = epoch + 1 WHERE id = 1",
    ))
    .await?;
    Ok(())
}

/// True when the error is a unique-key violation on either database.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A stored count as unsigned (negative values, which we never write, read as 0).
pub(crate) fn non_negative(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}
