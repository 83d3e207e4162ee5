//! Desk phones of an org (auto-provisioning by MAC) and the sealed SIP passwords their files
//! need.
//!
//! Invariants:
//! - A MAC belongs to at most one org: the column is unique across orgs. Adding a MAC that an
//!   org has (in any org) is a conflict that does not say which org; a removed (retired) phone
//!   gives its MAC up to whoever adds it next.
//! - Every read and write names the org; a phone of another org is "not found".
//! - No secret is stored here in clear: the phone's HTTP password is derived by the caller
//!   from `secret_key` and the user name; a SIP password arrives sealed.

use domain::ExtensionNumber;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::{now_ms, OrgId, Store, StoreError, StoreResult};

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "desk_phones")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub mac: String,
        pub model: String,
        pub extension: Option<String>,
        pub http_username: String,
        pub created_at: i64,
        pub updated_at: i64,
        pub last_fetch_at: Option<i64>,
        pub last_fetch_ip: Option<String>,
        pub retired_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod secret_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sip_secrets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub a1_hash: String,
        pub password_sealed: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A desk phone as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPhone {
    /// 12 lowercase hex digits.
    pub mac: String,
    /// A model id of the `deskphones` catalogue.
    pub model: String,
    pub extension: Option<ExtensionNumber>,
    pub http_username: String,
    pub created_at: i64,
    pub last_fetch_at: Option<i64>,
    pub last_fetch_ip: Option<String>,
    /// Set when the org removed the phone.
    pub retired_at: Option<i64>,
}

/// A phone to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeskPhone {
    pub mac: String,
    pub model: String,
    pub extension: Option<ExtensionNumber>,
    pub http_username: String,
}

fn to_phone(row: entity::Model) -> StoreResult<DeskPhone> {
    let extension = row
        .extension
        .as_deref()
        .map(ExtensionNumber::parse)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("desk phone {}: {e}", row.mac)))?;
    Ok(DeskPhone {
        mac: row.mac,
        model: row.model,
        extension,
        http_username: row.http_username,
        created_at: row.created_at,
        last_fetch_at: row.last_fetch_at,
        last_fetch_ip: row.last_fetch_ip,
        retired_at: row.retired_at,
    })
}

impl Store {
    /// The org's phones (not the removed ones), by MAC.
    pub async fn desk_phones(&self, org: OrgId) -> StoreResult<Vec<DeskPhone>> {
        entity::Entity::find()
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::RetiredAt.is_null())
            .order_by_asc(entity::Column::Mac)
            .all(self.connection())
            .await?
            .into_iter()
            .map(to_phone)
            .collect()
    }

    /// The org's phone with this MAC, removed ones included (they are still told to forget
    /// their account).
    pub async fn desk_phone(&self, org: OrgId, mac: &str) -> StoreResult<Option<DeskPhone>> {
        entity::Entity::find()
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::Mac.eq(mac))
            .one(self.connection())
            .await?
            .map(to_phone)
            .transpose()
    }

    /// Adds phones, all or none. A MAC an org has already (this one or another) is a
    /// conflict naming the MAC; a removed phone's row is replaced.
    pub async fn add_desk_phones(
        &self,
        org: OrgId,
        phones: &[NewDeskPhone],
    ) -> StoreResult<Vec<DeskPhone>> {
        let now = now_ms();
        let txn = self.connection().begin().await?;
        let mut added = Vec::with_capacity(phones.len());
        for phone in phones {
            entity::Entity::delete_many()
                .filter(entity::Column::Mac.eq(phone.mac.as_str()))
                .filter(entity::Column::RetiredAt.is_not_null())
                .exec(&txn)
                .await?;
            let row = entity::ActiveModel {
                id: ActiveValue::NotSet,
                org_id: ActiveValue::Set(org.0),
                mac: ActiveValue::Set(phone.mac.clone()),
                model: ActiveValue::Set(phone.model.clone()),
                extension: ActiveValue::Set(phone.extension.as_ref().map(|e| e.to_string())),
                http_username: ActiveValue::Set(phone.http_username.clone()),
                created_at: ActiveValue::Set(now),
                updated_at: ActiveValue::Set(now),
                last_fetch_at: ActiveValue::Set(None),
                last_fetch_ip: ActiveValue::Set(None),
                retired_at: ActiveValue::Set(None),
            };
            match row.insert(&txn).await {
                Ok(row) => added.push(to_phone(row)?),
                Err(err) if crate::is_unique_violation(&err) => {
                    return Err(StoreError::Conflict(format!(
                        "The phone with MAC address {} is registered already.",
                        crate::desk_phones::mac_for_people(&phone.mac)
                    )))
                }
                Err(err)
                    if matches!(
                        err.sql_err(),
                        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
                    ) =>
                {
                    return Err(StoreError::NotFound("organization".into()))
                }
                Err(err) => return Err(err.into()),
            }
        }
        txn.commit().await?;
        Ok(added)
    }

    /// Changes a phone's model and extension (`None`: no extension).
    pub async fn update_desk_phone(
        &self,
        org: OrgId,
        mac: &str,
        model: &str,
        extension: Option<&ExtensionNumber>,
    ) -> StoreResult<DeskPhone> {
        let updated = entity::Entity::update_many()
            .col_expr(entity::Column::Model, Expr::value(model))
            .col_expr(
                entity::Column::Extension,
                Expr::value(extension.map(|e| e.to_string())),
            )
            .col_expr(entity::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::Mac.eq(mac))
            .filter(entity::Column::RetiredAt.is_null())
            .exec(self.connection())
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound("phone".into()));
        }
        self.desk_phone(org, mac)
            .await?
            .ok_or_else(|| StoreError::NotFound("phone".into()))
    }

    /// Removes a phone from the org: it keeps its credentials until purged so that its next
    /// fetch tells it to forget the account.
    pub async fn retire_desk_phone(&self, org: OrgId, mac: &str) -> StoreResult<()> {
        let now = now_ms();
        let updated = entity::Entity::update_many()
            .col_expr(entity::Column::RetiredAt, Expr::value(now))
            .col_expr(
                entity::Column::Extension,
                Expr::value(Option::<String>::None),
            )
            .col_expr(entity::Column::UpdatedAt, Expr::value(now))
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::Mac.eq(mac))
            .filter(entity::Column::RetiredAt.is_null())
            .exec(self.connection())
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound("phone".into()));
        }
        Ok(())
    }

    /// Notes that a phone fetched its file.
    pub async fn record_desk_phone_fetch(
        &self,
        org: OrgId,
        mac: &str,
        ip: Option<&str>,
    ) -> StoreResult<()> {
        entity::Entity::update_many()
            .col_expr(entity::Column::LastFetchAt, Expr::value(now_ms()))
            .col_expr(
                entity::Column::LastFetchIp,
                Expr::value(ip.map(|ip| ip.chars().take(45).collect::<String>())),
            )
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::Mac.eq(mac))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Forgets phones removed before `before` (ms); returns how many.
    pub async fn purge_retired_desk_phones(&self, before: i64) -> StoreResult<u64> {
        let deleted = entity::Entity::delete_many()
            .filter(entity::Column::RetiredAt.lt(before))
            .exec(self.connection())
            .await?;
        Ok(deleted.rows_affected)
    }

    /// Keeps an extension's sealed SIP password under the a1-hash it produces. Keeping the
    /// same a1-hash again leaves the first one (the same password seals to another text).
    pub async fn keep_sip_password(
        &self,
        org: OrgId,
        a1_hash: &str,
        sealed: &str,
    ) -> StoreResult<()> {
        let row = secret_entity::ActiveModel {
            org_id: ActiveValue::Set(org.0),
            a1_hash: ActiveValue::Set(a1_hash.to_owned()),
            password_sealed: ActiveValue::Set(sealed.to_owned()),
            created_at: ActiveValue::Set(now_ms()),
        };
        secret_entity::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([secret_entity::Column::OrgId, secret_entity::Column::A1Hash])
                    // MySQL has no `DO NOTHING`: this writes `UPDATE org_id = org_id` there.
                    .do_nothing_on([secret_entity::Column::OrgId])
                    .to_owned(),
            )
            .try_insert()
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// The sealed SIP password that produces this a1-hash in this org, if it was kept.
    pub async fn sealed_sip_password(
        &self,
        org: OrgId,
        a1_hash: &str,
    ) -> StoreResult<Option<String>> {
        Ok(
            secret_entity::Entity::find_by_id((org.0, a1_hash.to_owned()))
                .one(self.connection())
                .await?
                .map(|row| row.password_sealed),
        )
    }
}

/// `001565aabbcc` as `00:15:65:aa:bb:cc`.
pub fn mac_for_people(mac: &str) -> String {
    mac.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests;
