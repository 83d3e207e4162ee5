//! What the provider assigns to an org and FreeSWITCH uses at once: DIDs and trunks.
//!
//! These changes do not wait for the org's Apply: they bump the org's `xml_version` so every
//! instance serves the new gateways and numbers immediately.

use domain::trunk::{Cidr, SipHost, SipUser, Transport, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{DidRoute, E164};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::apply::queue_commands;
use crate::convert::route_to_row;
use crate::entities::{did_routes, dids, organizations, trunks};
use crate::{
    bump_xml_epoch, is_unique_violation, now_ms, Layer, OrgId, Store, StoreError, StoreResult,
};

/// A trunk as stored; the password stays encrypted (the caller holds the key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredTrunk {
    pub role: TrunkRole,
    pub config: TrunkConfig,
    /// The encrypted password, if one was set.
    pub password_enc: Option<String>,
    pub updated_at: i64,
}

/// What to do with the stored trunk password when the trunk is changed.
pub enum PasswordChange {
    Keep,
    Set(String),
    Clear,
}

pub(crate) async fn touch_xml<C: ConnectionTrait>(conn: &C, org: OrgId) -> StoreResult<()> {
    let result = organizations::Entity::update_many()
        .col_expr(
            organizations::Column::XmlVersion,
            Expr::col(organizations::Column::XmlVersion).add(1),
        )
        .col_expr(organizations::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(organizations::Column::Id.eq(org.0))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("organization".into()));
    }
    Ok(())
}

pub(crate) fn trunk_from_row(row: &trunks::Model) -> StoreResult<StoredTrunk> {
    let c = |e: domain::ValueError| StoreError::Corrupt(format!("trunk row {}: {e}", row.id));
    let role = TrunkRole::parse(&row.role).map_err(c)?;
    let config = if row.same_as_inbound {
        TrunkConfig::SameAsInbound
    } else {
        let opt_host = |v: &Option<String>| v.as_deref().map(SipHost::parse).transpose();
        let opt_user = |v: &Option<String>| v.as_deref().map(SipUser::parse).transpose();
        let cidrs: Vec<String> = serde_json::from_str(&row.allowed_cidrs)
            .map_err(|e| StoreError::Corrupt(format!("trunk row {}: {e}", row.id)))?;
        TrunkConfig::Own(TrunkSettings {
            username: SipUser::parse(&row.username).map_err(c)?,
            auth_username: opt_user(&row.auth_username).map_err(c)?,
            host: SipHost::parse(&row.host).map_err(c)?,
            proxy: opt_host(&row.proxy).map_err(c)?,
            port: u16::try_from(row.port)
                .map_err(|_| StoreError::Corrupt(format!("trunk row {}: port", row.id)))?,
            transport: Transport::parse(&row.transport).map_err(c)?,
            register: row.register,
            realm: opt_host(&row.realm).map_err(c)?,
            from_user: opt_user(&row.from_user).map_err(c)?,
            from_domain: opt_host(&row.from_domain).map_err(c)?,
            caller_id_in_from: row.caller_id_in_from,
            expire_seconds: crate::non_negative(row.expire_seconds),
            allowed_cidrs: cidrs
                .iter()
                .map(|s| Cidr::parse(s))
                .collect::<Result<_, _>>()
                .map_err(c)?,
        })
    };
    Ok(StoredTrunk {
        role,
        config,
        password_enc: row.password_enc.clone(),
        updated_at: row.updated_at,
    })
}

fn trunk_row(
    org: OrgId,
    role: TrunkRole,
    config: &TrunkConfig,
    password_enc: Option<String>,
) -> trunks::ActiveModel {
    use sea_orm::ActiveValue::{NotSet, Set};
    let mut model = trunks::ActiveModel {
        id: NotSet,
        org_id: Set(org.0),
        role: Set(role.as_str().to_owned()),
        same_as_inbound: Set(false),
        username: Set(String::new()),
        auth_username: Set(None),
        password_enc: Set(password_enc),
        host: Set(String::new()),
        proxy: Set(None),
        port: Set(5060),
        transport: Set(Transport::Udp.as_str().to_owned()),
        register: Set(false),
        realm: Set(None),
        from_user: Set(None),
        from_domain: Set(None),
        caller_id_in_from: Set(false),
        expire_seconds: Set(3600),
        allowed_cidrs: Set("[]".to_owned()),
        updated_at: Set(now_ms()),
    };
    match config {
        TrunkConfig::SameAsInbound => {
            model.same_as_inbound = Set(true);
            model.password_enc = Set(None);
        }
        TrunkConfig::Own(s) => {
            let cidrs: Vec<&str> = s.allowed_cidrs.iter().map(Cidr::as_str).collect();
            model.username = Set(s.username.to_string());
            model.auth_username = Set(s.auth_username.as_ref().map(ToString::to_string));
            model.host = Set(s.host.to_string());
            model.proxy = Set(s.proxy.as_ref().map(ToString::to_string));
            model.port = Set(i32::from(s.port));
            model.transport = Set(s.transport.as_str().to_owned());
            model.register = Set(s.register);
            model.realm = Set(s.realm.as_ref().map(ToString::to_string));
            model.from_user = Set(s.from_user.as_ref().map(ToString::to_string));
            model.from_domain = Set(s.from_domain.as_ref().map(ToString::to_string));
            model.caller_id_in_from = Set(s.caller_id_in_from);
            model.expire_seconds = Set(s.expire_seconds as i32);
            model.allowed_cidrs =
                Set(serde_json::to_string(&cidrs).unwrap_or_else(|_| "[]".into()));
        }
    }
    model
}

pub(crate) async fn trunks_in<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
) -> StoreResult<Vec<StoredTrunk>> {
    trunks::Entity::find()
        .filter(trunks::Column::OrgId.eq(org.0))
        .order_by_asc(trunks::Column::Role)
        .all(conn)
        .await?
        .iter()
        .map(trunk_from_row)
        .collect()
}

impl Store {
    pub async fn list_dids(&self, org: OrgId) -> StoreResult<Vec<E164>> {
        self.org_dids(org).await
    }

    /// Assigns a DID to the org. DIDs are unique across all orgs. The DID starts unrouted (calls
    /// to it are refused) in both layers until the admin chooses an extension and applies.
    pub async fn add_did(&self, org: OrgId, did: &E164) -> StoreResult<()> {
        let txn = self.connection().begin().await?;
        touch_xml(&txn, org).await?;
        let row = dids::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            org_id: sea_orm::ActiveValue::Set(org.0),
            e164: sea_orm::ActiveValue::Set(did.to_string()),
            created_at: sea_orm::ActiveValue::Set(now_ms()),
        };
        match row.insert(&txn).await {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {
                return Err(StoreError::Conflict(format!(
                    "The number {did} is already assigned to an organization."
                )))
            }
            Err(err) => return Err(err.into()),
        }
        let revision = crate::draft::next_revision(&txn, org).await?;
        let route = DidRoute {
            did: did.clone(),
            extension: None,
        };
        for layer in [Layer::Draft, Layer::Applied] {
            route_to_row(org, layer, &route, revision)
                .insert(&txn)
                .await?;
        }
        bump_xml_epoch(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Takes a DID away from the org, with its routing in both layers.
    pub async fn remove_did(&self, org: OrgId, did: &E164) -> StoreResult<()> {
        let txn = self.connection().begin().await?;
        let result = dids::Entity::delete_many()
            .filter(dids::Column::OrgId.eq(org.0))
            .filter(dids::Column::E164.eq(did.as_str()))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("number {did}")));
        }
        did_routes::Entity::delete_many()
            .filter(did_routes::Column::OrgId.eq(org.0))
            .filter(did_routes::Column::Did.eq(did.as_str()))
            .exec(&txn)
            .await?;
        crate::draft::next_revision(&txn, org).await?;
        touch_xml(&txn, org).await?;
        bump_xml_epoch(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn trunks(&self, org: OrgId) -> StoreResult<Vec<StoredTrunk>> {
        trunks_in(self.connection(), org).await
    }

    /// Sets one of the org's trunks and queues `fs_commands` (the gateway reload) with it.
    pub async fn set_trunk(
        &self,
        org: OrgId,
        role: TrunkRole,
        config: &TrunkConfig,
        password: PasswordChange,
        fs_commands: &[String],
    ) -> StoreResult<StoredTrunk> {
        self.set_trunk_with(org, role, config, password, |_, _| fs_commands.to_vec())
            .await
    }

    /// Sets one of the org's trunks and queues the FreeSWITCH commands `commands` derives from
    /// the org's trunks before and after the change, all in one transaction. The org row is
    /// updated first, which serializes concurrent trunk changes of one org, so `before` is
    /// exactly what the change replaced.
    pub async fn set_trunk_with(
        &self,
        org: OrgId,
        role: TrunkRole,
        config: &TrunkConfig,
        password: PasswordChange,
        commands: impl FnOnce(&[StoredTrunk], &[StoredTrunk]) -> Vec<String>,
    ) -> StoreResult<StoredTrunk> {
        if role == TrunkRole::Inbound && *config == TrunkConfig::SameAsInbound {
            return Err(StoreError::Conflict(
                "Only the outbound trunk can be \"the same as inbound\".".into(),
            ));
        }
        let txn = self.connection().begin().await?;
        touch_xml(&txn, org).await?;
        let before = trunks_in(&txn, org).await?;
        let existing = trunks::Entity::find()
            .filter(trunks::Column::OrgId.eq(org.0))
            .filter(trunks::Column::Role.eq(role.as_str()))
            .one(&txn)
            .await?;
        let password_enc = match password {
            PasswordChange::Keep => existing.as_ref().and_then(|row| row.password_enc.clone()),
            PasswordChange::Set(enc) => Some(enc),
            PasswordChange::Clear => None,
        };
        let mut model = trunk_row(org, role, config, password_enc);
        let saved = match existing {
            Some(row) => {
                model.id = sea_orm::ActiveValue::Unchanged(row.id);
                model.update(&txn).await?
            }
            None => model.insert(&txn).await?,
        };
        let after = trunks_in(&txn, org).await?;
        bump_xml_epoch(&txn).await?;
        queue_commands(&txn, Some(org), &commands(&before, &after)).await?;
        txn.commit().await?;
        trunk_from_row(&saved)
    }

    /// Removes one of the org's trunks (and the outbound one when it was "same as inbound").
    pub async fn remove_trunk(
        &self,
        org: OrgId,
        role: TrunkRole,
        fs_commands: &[String],
    ) -> StoreResult<()> {
        self.remove_trunk_with(org, role, |_, _| fs_commands.to_vec())
            .await
    }

    /// Removes one of the org's trunks and queues the commands `commands` derives from the
    /// org's trunks before and after, in one transaction (serialized per org like
    /// [`Store::set_trunk_with`]).
    pub async fn remove_trunk_with(
        &self,
        org: OrgId,
        role: TrunkRole,
        commands: impl FnOnce(&[StoredTrunk], &[StoredTrunk]) -> Vec<String>,
    ) -> StoreResult<()> {
        let txn = self.connection().begin().await?;
        touch_xml(&txn, org).await?;
        let before = trunks_in(&txn, org).await?;
        let result = trunks::Entity::delete_many()
            .filter(trunks::Column::OrgId.eq(org.0))
            .filter(trunks::Column::Role.eq(role.as_str()))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("{} trunk", role.as_str())));
        }
        if role == TrunkRole::Inbound {
            trunks::Entity::delete_many()
                .filter(trunks::Column::OrgId.eq(org.0))
                .filter(trunks::Column::Role.eq(TrunkRole::Outbound.as_str()))
                .filter(trunks::Column::SameAsInbound.eq(true))
                .exec(&txn)
                .await?;
        }
        let after = trunks_in(&txn, org).await?;
        bump_xml_epoch(&txn).await?;
        queue_commands(&txn, Some(org), &commands(&before, &after)).await?;
        txn.commit().await?;
        Ok(())
    }
}
