//! Who may change what: org admins, their web sessions, provider API keys.
//!
//! The store keeps only hashes (argon2id for passwords, SHA-256 for random tokens and keys);
//! hashing happens in the caller so that no secret passes through here.

use domain::Email;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{api_keys, org_admins, sessions};
use crate::{is_unique_violation, now_ms, OrgId, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: i64,
    pub org: OrgId,
    pub email: Email,
    /// `None` while the admin has not accepted an invitation yet.
    pub password_hash: Option<String>,
    pub invite_pending: bool,
    pub created_at: i64,
}

fn admin_from_row(row: org_admins::Model) -> StoreResult<Admin> {
    Ok(Admin {
        id: row.id,
        org: OrgId(row.org_id),
        email: Email::parse(&row.email)
            .map_err(|e| StoreError::Corrupt(format!("admin {}: {e}", row.id)))?,
        password_hash: row.password_hash,
        invite_pending: row.invite_token_hash.is_some(),
        created_at: row.created_at,
    })
}

/// How a new admin gets in.
pub enum AdminCredential {
    PasswordHash(String),
    /// SHA-256 of a one-time invitation token, and when it expires (ms).
    Invite {
        token_hash: String,
        expires_at: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub org: OrgId,
    pub admin_id: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it in listings.
    pub prefix: String,
    /// `None`: a provider-wide key. `Some`: limited to that org.
    pub org: Option<OrgId>,
    pub created_at: i64,
}

impl Store {
    pub async fn create_admin(
        &self,
        org: OrgId,
        email: &Email,
        credential: AdminCredential,
    ) -> StoreResult<Admin> {
        let (password_hash, invite_token_hash, invite_expires_at) = match credential {
            AdminCredential::PasswordHash(hash) => (Some(hash), None, None),
            AdminCredential::Invite {
                token_hash,
                expires_at,
            } => (None, Some(token_hash), Some(expires_at)),
        };
        let row = org_admins::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            org_id: sea_orm::ActiveValue::Set(org.0),
            email: sea_orm::ActiveValue::Set(email.to_string()),
            password_hash: sea_orm::ActiveValue::Set(password_hash),
            invite_token_hash: sea_orm::ActiveValue::Set(invite_token_hash),
            invite_expires_at: sea_orm::ActiveValue::Set(invite_expires_at),
            created_at: sea_orm::ActiveValue::Set(now_ms()),
        };
        match row.insert(self.connection()).await {
            Ok(model) => admin_from_row(model),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict(format!(
                "{email} is already an admin of this organization."
            ))),
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
                ) =>
            {
                Err(StoreError::NotFound("organization".into()))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn admin_by_email(&self, org: OrgId, email: &Email) -> StoreResult<Option<Admin>> {
        org_admins::Entity::find()
            .filter(org_admins::Column::OrgId.eq(org.0))
            .filter(org_admins::Column::Email.eq(email.as_str()))
            .one(self.connection())
            .await?
            .map(admin_from_row)
            .transpose()
    }

    pub async fn admin(&self, org: OrgId, id: i64) -> StoreResult<Admin> {
        org_admins::Entity::find()
            .filter(org_admins::Column::OrgId.eq(org.0))
            .filter(org_admins::Column::Id.eq(id))
            .one(self.connection())
            .await?
            .map(admin_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound("admin".into()))
    }

    pub async fn list_admins(&self, org: OrgId) -> StoreResult<Vec<Admin>> {
        org_admins::Entity::find()
            .filter(org_admins::Column::OrgId.eq(org.0))
            .order_by_asc(org_admins::Column::Email)
            .all(self.connection())
            .await?
            .into_iter()
            .map(admin_from_row)
            .collect()
    }

    pub async fn delete_admin(&self, org: OrgId, id: i64) -> StoreResult<()> {
        let result = org_admins::Entity::delete_many()
            .filter(org_admins::Column::OrgId.eq(org.0))
            .filter(org_admins::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound("admin".into()));
        }
        Ok(())
    }

    /// Sets a new password hash, ends any pending invitation and every session of the admin.
    pub async fn set_admin_password(
        &self,
        org: OrgId,
        id: i64,
        password_hash: &str,
    ) -> StoreResult<()> {
        use sea_orm::TransactionTrait;
        let txn = self.connection().begin().await?;
        let result = org_admins::Entity::update_many()
            .col_expr(org_admins::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(
                org_admins::Column::InviteTokenHash,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                org_admins::Column::InviteExpiresAt,
                Expr::value(Option::<i64>::None),
            )
            .filter(org_admins::Column::OrgId.eq(org.0))
            .filter(org_admins::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound("admin".into()));
        }
        sessions::Entity::delete_many()
            .filter(sessions::Column::AdminId.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The admin a still valid invitation token (by hash) belongs to.
    pub async fn admin_by_invite(&self, token_hash: &str) -> StoreResult<Option<Admin>> {
        org_admins::Entity::find()
            .filter(org_admins::Column::InviteTokenHash.eq(token_hash))
            .filter(org_admins::Column::InviteExpiresAt.gt(now_ms()))
            .one(self.connection())
            .await?
            .map(admin_from_row)
            .transpose()
    }

    pub async fn create_session(
        &self,
        org: OrgId,
        admin_id: i64,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sessions::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            token_hash: sea_orm::ActiveValue::Set(token_hash.to_owned()),
            org_id: sea_orm::ActiveValue::Set(org.0),
            admin_id: sea_orm::ActiveValue::Set(admin_id),
            created_at: sea_orm::ActiveValue::Set(now_ms()),
            expires_at: sea_orm::ActiveValue::Set(expires_at),
        }
        .insert(self.connection())
        .await?;
        Ok(())
    }

    /// The unexpired session with this token hash.
    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Ok(sessions::Entity::find()
            .filter(sessions::Column::TokenHash.eq(token_hash))
            .filter(sessions::Column::ExpiresAt.gt(now_ms()))
            .one(self.connection())
            .await?
            .map(|row| Session {
                org: OrgId(row.org_id),
                admin_id: row.admin_id,
                expires_at: row.expires_at,
            }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sessions::Entity::delete_many()
            .filter(sessions::Column::TokenHash.eq(token_hash))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn prune_sessions(&self) -> StoreResult<u64> {
        Ok(sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now_ms()))
            .exec(self.connection())
            .await?
            .rows_affected)
    }

    pub async fn create_api_key(
        &self,
        name: &str,
        prefix: &str,
        key_hash: &str,
        org: Option<OrgId>,
    ) -> StoreResult<ApiKey> {
        let model = api_keys::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            name: sea_orm::ActiveValue::Set(name.to_owned()),
            prefix: sea_orm::ActiveValue::Set(prefix.to_owned()),
            key_hash: sea_orm::ActiveValue::Set(key_hash.to_owned()),
            org_id: sea_orm::ActiveValue::Set(org.map(|o| o.0)),
            created_at: sea_orm::ActiveValue::Set(now_ms()),
            last_used_at: sea_orm::ActiveValue::Set(None),
        }
        .insert(self.connection())
        .await?;
        Ok(api_key_from_row(model))
    }

    pub async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        Ok(api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(key_hash))
            .one(self.connection())
            .await?
            .map(api_key_from_row))
    }

    pub async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        Ok(api_keys::Entity::find()
            .order_by_asc(api_keys::Column::Id)
            .all(self.connection())
            .await?
            .into_iter()
            .map(api_key_from_row)
            .collect())
    }

    pub async fn delete_api_key(&self, id: i64) -> StoreResult<()> {
        if api_keys::Entity::delete_by_id(id)
            .exec(self.connection())
            .await?
            .rows_affected
            == 0
        {
            return Err(StoreError::NotFound("API key".into()));
        }
        Ok(())
    }
}

fn api_key_from_row(row: api_keys::Model) -> ApiKey {
    ApiKey {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        org: row.org_id.map(OrgId),
        created_at: row.created_at,
    }
}
