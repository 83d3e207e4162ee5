//! Read-only access to FreeSWITCH's own database, when FreeSWITCH keeps it on MariaDB/MySQL
//! (`scripts/fs-install.sh --fs-db`): the registrations sofia writes into `sip_registrations`.
//!
//! The connection uses a user that may only `SELECT` (`scripts/db-create.sh --fs-database`
//! creates it), so nothing here can change FreeSWITCH's state. Every query names exactly one SIP
//! domain and one profile: an org reads its own phones and nobody else's. Rows come back as
//! sofia wrote them; the caller maps them to what it shows.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryResult,
    Statement,
};

use crate::{DatabaseKind, StoreError, StoreResult};

/// One row of sofia's `sip_registrations` (the columns the live view and status show).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SofiaRegistration {
    pub sip_user: String,
    pub sip_host: String,
    pub call_id: String,
    pub contact: String,
    pub user_agent: String,
    /// `Registered(UDP-NAT)` and the like.
    pub status: String,
    /// When sofia drops it (seconds since the epoch; sofia adds its late margin).
    pub expires_at_s: i64,
    pub network_ip: String,
    pub network_port: String,
}

/// A pool of at most a few connections to FreeSWITCH's database.
#[derive(Clone)]
pub struct FreeSwitchDb {
    db: DatabaseConnection,
}

impl FreeSwitchDb {
    /// Prepares the pool without connecting: FreeSWITCH's database may come up later, and each
    /// query says whether it could be reached. Only MariaDB/MySQL URLs are accepted.
    pub async fn connect_lazily(url: &str) -> StoreResult<Self> {
        if DatabaseKind::from_url(url).map_err(StoreError::Conflict)? != DatabaseKind::MySql {
            return Err(StoreError::Conflict(
                "FreeSWITCH's database URL must be mysql:// or mariadb://".into(),
            ));
        }
        let mut options = ConnectOptions::new(crate::driver_url(url));
        // Short timeouts: a live view that waits 10 s for an unreachable server helps nobody.
        options
            .sqlx_logging(false)
            .min_connections(0)
            .max_connections(4)
            .connect_timeout(Duration::from_secs(2))
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(true);
        Ok(Self {
            db: Database::connect(options).await?,
        })
    }

    /// The registrations of `domain` on sofia profile `profile`, ordered by user and Call-ID.
    pub async fn registrations(
        &self,
        profile: &str,
        domain: &str,
    ) -> StoreResult<Vec<SofiaRegistration>> {
        let statement = Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT sip_user, sip_host, call_id, contact, user_agent, status, expires, \
             network_ip, network_port FROM sip_registrations \
             WHERE profile_name = ? AND sip_host = ? ORDER BY sip_user, call_id",
            [profile.into(), domain.into()],
        );
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter().map(registration).collect()
    }

    /// Whether FreeSWITCH's database answers (and sofia's table is there).
    pub async fn ping(&self) -> StoreResult<()> {
        let statement = Statement::from_string(
            DbBackend::MySql,
            "SELECT COUNT(*) FROM sip_registrations WHERE 1 = 0",
        );
        self.db.query_one_raw(statement).await?;
        Ok(())
    }
}

fn text(row: &QueryResult, column: &str) -> StoreResult<String> {
    Ok(row
        .try_get::<Option<String>>("", column)?
        .unwrap_or_default())
}

fn registration(row: &QueryResult) -> StoreResult<SofiaRegistration> {
    Ok(SofiaRegistration {
        sip_user: text(row, "sip_user")?,
        sip_host: text(row, "sip_host")?,
        call_id: text(row, "call_id")?,
        contact: text(row, "contact")?,
        user_agent: text(row, "user_agent")?,
        status: text(row, "status")?,
        expires_at_s: row.try_get::<Option<i64>>("", "expires")?.unwrap_or(0),
        network_ip: text(row, "network_ip")?,
        network_port: text(row, "network_port")?,
    })
}
