//! Organizations: the provider's side (create, list, update, delete, logo).

use domain::defaults::{default_config, ReceptionSecrets};
use domain::{CompanyName, OrgSlug, OrgStatus, SipDomain};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::apply::{insert_config, queue_commands};
use crate::entities::{apply_history, organizations};
use crate::{
    bump_xml_epoch, is_unique_violation, now_ms, Layer, OrgId, Store, StoreError, StoreResult,
};

/// Limits the provider sets per org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgLimits {
    pub max_extensions: u32,
    pub max_outbound_calls: u32,
    pub max_calls_per_second: u32,
}

impl Default for OrgLimits {
    fn default() -> Self {
        Self {
            max_extensions: 1000,
            max_outbound_calls: 10,
            max_calls_per_second: 2,
        }
    }
}

/// An organization as the rest of LittlePBX sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub name: CompanyName,
    pub sip_domain: SipDomain,
    pub status: OrgStatus,
    pub applied_version: i64,
    pub draft_revision: i64,
    pub xml_version: i64,
    pub limits: OrgLimits,
    pub has_logo: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewOrg {
    pub slug: OrgSlug,
    pub name: CompanyName,
    pub sip_domain: SipDomain,
    pub limits: OrgLimits,
}

/// The provider's changes to an org; `None` leaves a field as it is.
#[derive(Default)]
pub struct OrgUpdate {
    pub name: Option<CompanyName>,
    pub status: Option<OrgStatus>,
    pub limits: Option<OrgLimits>,
}

/// The columns every listing reads (the logo blob is left out).
fn org_columns() -> [organizations::Column; 14] {
    use organizations::Column as C;
    [
        C::Id,
        C::Slug,
        C::Name,
        C::SipDomain,
        C::Status,
        C::LogoMime,
        C::AppliedVersion,
        C::DraftRevision,
        C::XmlVersion,
        C::MaxExtensions,
        C::MaxOutboundCalls,
        C::MaxCallsPerSecond,
        C::CreatedAt,
        C::UpdatedAt,
    ]
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct OrgRow {
    id: i64,
    slug: String,
    name: String,
    sip_domain: String,
    status: String,
    logo_mime: Option<String>,
    applied_version: i64,
    draft_revision: i64,
    xml_version: i64,
    max_extensions: i32,
    max_outbound_calls: i32,
    max_calls_per_second: i32,
    created_at: i64,
    updated_at: i64,
}

fn org_from_row(row: OrgRow) -> StoreResult<Org> {
    let corrupt =
        |e: domain::ValueError| StoreError::Corrupt(format!("organization {}: {e}", row.id));
    Ok(Org {
        id: OrgId(row.id),
        slug: OrgSlug::parse(&row.slug).map_err(corrupt)?,
        name: CompanyName::parse(&row.name).map_err(corrupt)?,
        sip_domain: SipDomain::parse(&row.sip_domain).map_err(corrupt)?,
        status: OrgStatus::parse(&row.status).map_err(corrupt)?,
        applied_version: row.applied_version,
        draft_revision: row.draft_revision,
        xml_version: row.xml_version,
        limits: OrgLimits {
            max_extensions: crate::non_negative(row.max_extensions),
            max_outbound_calls: crate::non_negative(row.max_outbound_calls),
            max_calls_per_second: crate::non_negative(row.max_calls_per_second),
        },
        has_logo: row.logo_mime.is_some(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

async fn find_org<C: ConnectionTrait>(
    conn: &C,
    filter: sea_orm::Condition,
) -> StoreResult<Option<Org>> {
    organizations::Entity::find()
        .select_only()
        .columns(org_columns())
        .filter(filter)
        .into_model::<OrgRow>()
        .one(conn)
        .await?
        .map(org_from_row)
        .transpose()
}

pub(crate) async fn org_in<C: ConnectionTrait>(conn: &C, org: OrgId) -> StoreResult<Org> {
    find_org(conn, organizations::Column::Id.eq(org.0).into())
        .await?
        .ok_or_else(|| StoreError::NotFound("organization".into()))
}

/// Orgs with an id above `after`, by id, at most `limit`.
pub(crate) async fn orgs_page_in<C: ConnectionTrait>(
    conn: &C,
    after: Option<OrgId>,
    limit: u64,
) -> StoreResult<Vec<Org>> {
    organizations::Entity::find()
        .select_only()
        .columns(org_columns())
        .filter(organizations::Column::Id.gt(after.map_or(0, |o| o.0)))
        .order_by_asc(organizations::Column::Id)
        .limit(limit)
        .into_model::<OrgRow>()
        .all(conn)
        .await?
        .into_iter()
        .map(org_from_row)
        .collect()
}

pub(crate) async fn all_orgs_in<C: ConnectionTrait>(conn: &C) -> StoreResult<Vec<Org>> {
    organizations::Entity::find()
        .select_only()
        .columns(org_columns())
        .into_model::<OrgRow>()
        .all(conn)
        .await?
        .into_iter()
        .map(org_from_row)
        .collect()
}

/// The logo as stored: media type and bytes.
pub struct Logo {
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Creates an org with the default configuration in both layers, so its reception extension
    /// works at once (applied version 1).
    pub async fn create_org(&self, new: &NewOrg, secrets: ReceptionSecrets) -> StoreResult<Org> {
        let txn = self.connection().begin().await?;
        let now = now_ms();
        let row = organizations::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            slug: sea_orm::ActiveValue::Set(new.slug.to_string()),
            name: sea_orm::ActiveValue::Set(new.name.to_string()),
            sip_domain: sea_orm::ActiveValue::Set(new.sip_domain.to_string()),
            status: sea_orm::ActiveValue::Set(OrgStatus::Active.as_str().to_owned()),
            logo_mime: sea_orm::ActiveValue::Set(None),
            logo: sea_orm::ActiveValue::Set(None),
            applied_version: sea_orm::ActiveValue::Set(1),
            draft_revision: sea_orm::ActiveValue::Set(1),
            xml_version: sea_orm::ActiveValue::Set(1),
            max_extensions: sea_orm::ActiveValue::Set(new.limits.max_extensions as i32),
            max_outbound_calls: sea_orm::ActiveValue::Set(new.limits.max_outbound_calls as i32),
            max_calls_per_second: sea_orm::ActiveValue::Set(new.limits.max_calls_per_second as i32),
            created_at: sea_orm::ActiveValue::Set(now),
            updated_at: sea_orm::ActiveValue::Set(now),
        };
        let inserted = match row.insert(&txn).await {
            Ok(model) => model,
            Err(err) if is_unique_violation(&err) => {
                let clash = if find_org(
                    &txn,
                    organizations::Column::Slug.eq(new.slug.as_str()).into(),
                )
                .await?
                .is_some()
                {
                    format!(
                        "An organization with the short name \"{}\" already exists.",
                        new.slug
                    )
                } else {
                    format!(
                        "The SIP domain {} is already used by another organization.",
                        new.sip_domain
                    )
                };
                return Err(StoreError::Conflict(clash));
            }
            Err(err) => return Err(err.into()),
        };
        let org = OrgId(inserted.id);
        let config =
            default_config(secrets, &[]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        insert_config(&txn, org, Layer::Draft, &config, 1).await?;
        insert_config(&txn, org, Layer::Applied, &config, 1).await?;
        apply_history::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            org_id: sea_orm::ActiveValue::Set(org.0),
            version: sea_orm::ActiveValue::Set(1),
            applied_by: sea_orm::ActiveValue::Set("provider (organization created)".into()),
            applied_at: sea_orm::ActiveValue::Set(now),
            changes: sea_orm::ActiveValue::Set("[]".into()),
            job_id: sea_orm::ActiveValue::Set(None),
            config: sea_orm::ActiveValue::Set(Some(crate::history::config_json(&config)?)),
            waited_ms: sea_orm::ActiveValue::Set(None),
        }
        .insert(&txn)
        .await?;
        bump_xml_epoch(&txn).await?;
        let created = find_org(&txn, organizations::Column::Id.eq(org.0).into())
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?;
        txn.commit().await?;
        Ok(created)
    }

    pub async fn org(&self, org: OrgId) -> StoreResult<Org> {
        find_org(
            self.connection(),
            organizations::Column::Id.eq(org.0).into(),
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("organization".into()))
    }

    pub async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        find_org(
            self.connection(),
            organizations::Column::Slug.eq(slug).into(),
        )
        .await
    }

    pub async fn org_by_domain(&self, domain: &str) -> StoreResult<Option<Org>> {
        find_org(
            self.connection(),
            organizations::Column::SipDomain.eq(domain).into(),
        )
        .await
    }

    /// Orgs ordered by slug, `limit` from `offset`, with the total count.
    pub async fn list_orgs(&self, offset: u64, limit: u64) -> StoreResult<(Vec<Org>, u64)> {
        let total = organizations::Entity::find()
            .count(self.connection())
            .await?;
        let rows = organizations::Entity::find()
            .select_only()
            .columns(org_columns())
            .order_by_asc(organizations::Column::Slug)
            .offset(offset)
            .limit(limit)
            .into_model::<OrgRow>()
            .all(self.connection())
            .await?;
        let orgs = rows
            .into_iter()
            .map(org_from_row)
            .collect::<StoreResult<_>>()?;
        Ok((orgs, total))
    }

    /// Every org (no logos).
    pub async fn all_orgs(&self) -> StoreResult<Vec<Org>> {
        all_orgs_in(self.connection()).await
    }

    /// Changes name, status or limits. A status or limit change reaches FreeSWITCH at once.
    pub async fn update_org(&self, org: OrgId, update: &OrgUpdate) -> StoreResult<Org> {
        self.update_org_with(org, update, |_, _| Vec::new()).await
    }

    /// Like [`Store::update_org`], and queues the FreeSWITCH commands `commands` derives from
    /// the org before and after the change (a suspension tears its gateways down) in the same
    /// transaction. `before` is read after the org row was locked, so of two concurrent changes
    /// the second sees the first one's result.
    pub async fn update_org_with(
        &self,
        org: OrgId,
        update: &OrgUpdate,
        commands: impl FnOnce(&Org, &Org) -> Vec<String>,
    ) -> StoreResult<Org> {
        let txn = self.connection().begin().await?;
        // Writing first locks the row (SQLite: the database), so `before` is the latest state.
        // MariaDB counts only changed rows, so existence is checked by reading, not by the count.
        organizations::Entity::update_many()
            .col_expr(organizations::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(organizations::Column::Id.eq(org.0))
            .exec(&txn)
            .await?;
        let before = find_org(&txn, organizations::Column::Id.eq(org.0).into())
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?;
        let mut query = organizations::Entity::update_many()
            .col_expr(organizations::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(organizations::Column::Id.eq(org.0));
        if let Some(name) = &update.name {
            query = query.col_expr(organizations::Column::Name, Expr::value(name.to_string()));
        }
        if let Some(status) = update.status {
            query = query.col_expr(organizations::Column::Status, Expr::value(status.as_str()));
        }
        if let Some(limits) = update.limits {
            query = query
                .col_expr(
                    organizations::Column::MaxExtensions,
                    Expr::value(limits.max_extensions as i32),
                )
                .col_expr(
                    organizations::Column::MaxOutboundCalls,
                    Expr::value(limits.max_outbound_calls as i32),
                )
                .col_expr(
                    organizations::Column::MaxCallsPerSecond,
                    Expr::value(limits.max_calls_per_second as i32),
                );
        }
        let affects_freeswitch = update.status.is_some() || update.limits.is_some();
        if affects_freeswitch {
            query = query.col_expr(
                organizations::Column::XmlVersion,
                Expr::col(organizations::Column::XmlVersion).add(1),
            );
        }
        query.exec(&txn).await?;
        if affects_freeswitch {
            bump_xml_epoch(&txn).await?;
        }
        let updated = find_org(&txn, organizations::Column::Id.eq(org.0).into())
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?;
        queue_commands(&txn, Some(org), &commands(&before, &updated)).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes the org with everything it owns (cascade), queueing `fs_commands` so FreeSWITCH
    /// forgets its users and gateways.
    pub async fn delete_org(&self, org: OrgId, fs_commands: &[String]) -> StoreResult<()> {
        let txn = self.connection().begin().await?;
        let result = organizations::Entity::delete_by_id(org.0)
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound("organization".into()));
        }
        bump_xml_epoch(&txn).await?;
        queue_commands(&txn, None, fs_commands).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn set_logo(&self, org: OrgId, logo: Option<Logo>) -> StoreResult<()> {
        let (mime, bytes) = match logo {
            Some(logo) => (Some(logo.mime), Some(logo.bytes)),
            None => (None, None),
        };
        let result = organizations::Entity::update_many()
            .col_expr(organizations::Column::LogoMime, Expr::value(mime))
            .col_expr(organizations::Column::Logo, Expr::value(bytes))
            .col_expr(organizations::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(organizations::Column::Id.eq(org.0))
            .exec(self.connection())
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound("organization".into()));
        }
        Ok(())
    }

    pub async fn logo(&self, org: OrgId) -> StoreResult<Option<Logo>> {
        let row = organizations::Entity::find_by_id(org.0)
            .one(self.connection())
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?;
        Ok(match (row.logo_mime, row.logo) {
            (Some(mime), Some(bytes)) => Some(Logo { mime, bytes }),
            _ => None,
        })
    }
}
