//! Reading both layers and editing the draft.
//!
//! Every draft row carries a `revision`. An edit names the revision it was based on and is refused
//! with [`StoreError::Stale`] when the row has moved on, so two browsers never silently overwrite
//! each other. Revisions come from the org's `draft_revision` counter, which only grows: after a
//! Discard or Reset every row has a revision no earlier edit can match.

use domain::{DidRoute, Extension, ExtensionNumber, OrgConfig, OrgOptions, E164};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use crate::convert::*;
use crate::entities::{did_routes, dids, extensions, org_settings, organizations};
use crate::{is_unique_violation, Layer, OrgId, Store, StoreError, StoreResult};

/// A value with the revision an edit must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub revision: i64,
}

/// The draft layer with the revision of every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftState {
    pub extensions: Vec<Versioned<Extension>>,
    pub did_routes: Vec<Versioned<DidRoute>>,
    pub options: Versioned<OrgOptions>,
}

impl DraftState {
    pub fn config(&self) -> OrgConfig {
        OrgConfig {
            extensions: self.extensions.iter().map(|e| e.value.clone()).collect(),
            did_routes: self.did_routes.iter().map(|r| r.value.clone()).collect(),
            options: self.options.value.clone(),
        }
    }
}

pub(crate) async fn extension_rows<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    layer: Layer,
) -> StoreResult<Vec<extensions::Model>> {
    Ok(extensions::Entity::find()
        .filter(extensions::Column::OrgId.eq(org.0))
        .filter(extensions::Column::Layer.eq(layer.as_str()))
        .order_by_asc(extensions::Column::Number)
        .all(conn)
        .await?)
}

pub(crate) async fn route_rows<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    layer: Layer,
) -> StoreResult<Vec<did_routes::Model>> {
    Ok(did_routes::Entity::find()
        .filter(did_routes::Column::OrgId.eq(org.0))
        .filter(did_routes::Column::Layer.eq(layer.as_str()))
        .order_by_asc(did_routes::Column::Did)
        .all(conn)
        .await?)
}

pub(crate) async fn settings_row<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    layer: Layer,
) -> StoreResult<Option<org_settings::Model>> {
    Ok(org_settings::Entity::find()
        .filter(org_settings::Column::OrgId.eq(org.0))
        .filter(org_settings::Column::Layer.eq(layer.as_str()))
        .one(conn)
        .await?)
}

/// One layer of one org as a domain value.
pub(crate) async fn load_layer_in<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    layer: Layer,
) -> StoreResult<OrgConfig> {
    let extensions = extension_rows(conn, org, layer)
        .await?
        .iter()
        .map(extension_from_row)
        .collect::<Result<_, _>>()?;
    let did_routes = route_rows(conn, org, layer)
        .await?
        .iter()
        .map(route_from_row)
        .collect::<Result<_, _>>()?;
    let options = match settings_row(conn, org, layer).await? {
        Some(row) => options_from_row(&row)?,
        None => OrgOptions::default(),
    };
    Ok(OrgConfig {
        extensions,
        did_routes,
        options,
    })
}

/// Takes the next revision of the org's draft, locking the org row for the rest of the
/// transaction (edits of one org are serialized; other orgs are not touched).
pub(crate) async fn next_revision<C: ConnectionTrait>(conn: &C, org: OrgId) -> StoreResult<i64> {
    use sea_orm::sea_query::Expr;
    let result = organizations::Entity::update_many()
        .col_expr(
            organizations::Column::DraftRevision,
            Expr::col(organizations::Column::DraftRevision).add(1),
        )
        .filter(organizations::Column::Id.eq(org.0))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("organization".into()));
    }
    let org_row = organizations::Entity::find_by_id(org.0)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("organization".into()))?;
    Ok(org_row.draft_revision)
}

/// The org's DIDs, as the provider assigned them.
pub(crate) async fn owned_dids<C: ConnectionTrait>(conn: &C, org: OrgId) -> StoreResult<Vec<E164>> {
    dids::Entity::find()
        .filter(dids::Column::OrgId.eq(org.0))
        .order_by_asc(dids::Column::E164)
        .all(conn)
        .await?
        .iter()
        .map(|row| {
            E164::parse(&row.e164)
                .map_err(|e| StoreError::Corrupt(format!("DID row {}: {e}", row.id)))
        })
        .collect()
}

fn stale(what: String, current_revision: i64) -> StoreError {
    StoreError::Stale {
        what,
        current_revision,
    }
}

impl Store {
    /// One layer of the org's configuration.
    pub async fn load_layer(&self, org: OrgId, layer: Layer) -> StoreResult<OrgConfig> {
        load_layer_in(self.connection(), org, layer).await
    }

    /// The draft with the revision of every row, read in one transaction.
    pub async fn load_draft(&self, org: OrgId) -> StoreResult<DraftState> {
        let txn = self.connection().begin().await?;
        let extensions = extension_rows(&txn, org, Layer::Draft)
            .await?
            .iter()
            .map(|row| {
                Ok(Versioned {
                    value: extension_from_row(row)?,
                    revision: row.revision,
                })
            })
            .collect::<StoreResult<_>>()?;
        let did_routes = route_rows(&txn, org, Layer::Draft)
            .await?
            .iter()
            .map(|row| {
                Ok(Versioned {
                    value: route_from_row(row)?,
                    revision: row.revision,
                })
            })
            .collect::<StoreResult<_>>()?;
        let options = match settings_row(&txn, org, Layer::Draft).await? {
            Some(row) => Versioned {
                value: options_from_row(&row)?,
                revision: row.revision,
            },
            None => Versioned {
                value: OrgOptions::default(),
                revision: 0,
            },
        };
        txn.commit().await?;
        Ok(DraftState {
            extensions,
            did_routes,
            options,
        })
    }

    /// The DIDs the provider assigned to the org.
    pub async fn org_dids(&self, org: OrgId) -> StoreResult<Vec<E164>> {
        owned_dids(self.connection(), org).await
    }

    /// Adds an extension to the draft. Refused when the number exists or the org is full.
    pub async fn create_extension(
        &self,
        org: OrgId,
        ext: &Extension,
    ) -> StoreResult<Versioned<Extension>> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        let org_row = organizations::Entity::find_by_id(org.0)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?;
        let count = extensions::Entity::find()
            .filter(extensions::Column::OrgId.eq(org.0))
            .filter(extensions::Column::Layer.eq(Layer::Draft.as_str()))
            .count(&txn)
            .await?;
        if count >= crate::non_negative(org_row.max_extensions) as u64 {
            return Err(StoreError::Conflict(format!(
                "This PBX can have at most {} extensions.",
                org_row.max_extensions
            )));
        }
        match extension_to_row(org, Layer::Draft, ext, revision)
            .insert(&txn)
            .await
        {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {
                return Err(StoreError::Conflict(format!(
                    "Extension {} already exists.",
                    ext.number
                )))
            }
            Err(err) => return Err(err.into()),
        }
        txn.commit().await?;
        Ok(Versioned {
            value: ext.clone(),
            revision,
        })
    }

    /// Changes one draft extension, if it is still at `expected_revision`. `change` edits the
    /// current value; the number cannot change (its SIP password hash depends on it).
    pub async fn update_extension(
        &self,
        org: OrgId,
        number: &ExtensionNumber,
        expected_revision: i64,
        change: impl FnOnce(&mut Extension) -> StoreResult<()>,
    ) -> StoreResult<Versioned<Extension>> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        let row = find_draft_extension(&txn, org, number).await?;
        if row.revision != expected_revision {
            return Err(stale(format!("Extension {number}"), row.revision));
        }
        let mut ext = extension_from_row(&row)?;
        change(&mut ext)?;
        if &ext.number != number {
            return Err(StoreError::Conflict(
                "An extension's number cannot be changed.".into(),
            ));
        }
        let mut model = extension_to_row(org, Layer::Draft, &ext, revision);
        model.id = sea_orm::ActiveValue::Unchanged(row.id);
        model.update(&txn).await?;
        txn.commit().await?;
        Ok(Versioned {
            value: ext,
            revision,
        })
    }

    /// Removes one draft extension, if it is still at `expected_revision`.
    pub async fn delete_extension(
        &self,
        org: OrgId,
        number: &ExtensionNumber,
        expected_revision: i64,
    ) -> StoreResult<()> {
        let txn = self.connection().begin().await?;
        next_revision(&txn, org).await?;
        let row = find_draft_extension(&txn, org, number).await?;
        if row.revision != expected_revision {
            return Err(stale(format!("Extension {number}"), row.revision));
        }
        extensions::Entity::delete_by_id(row.id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Chooses which extension a DID rings in the draft (`None`: calls to it are refused).
    pub async fn set_did_route(
        &self,
        org: OrgId,
        did: &E164,
        extension: Option<ExtensionNumber>,
        expected_revision: i64,
    ) -> StoreResult<Versioned<DidRoute>> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        let row = did_routes::Entity::find()
            .filter(did_routes::Column::OrgId.eq(org.0))
            .filter(did_routes::Column::Layer.eq(Layer::Draft.as_str()))
            .filter(did_routes::Column::Did.eq(did.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("number {did}")))?;
        if row.revision != expected_revision {
            return Err(stale(format!("The routing of {did}"), row.revision));
        }
        let route = DidRoute {
            did: did.clone(),
            extension,
        };
        let mut model = route_to_row(org, Layer::Draft, &route, revision);
        model.id = sea_orm::ActiveValue::Unchanged(row.id);
        model.update(&txn).await?;
        txn.commit().await?;
        Ok(Versioned {
            value: route,
            revision,
        })
    }

    /// Changes the org-wide options of the draft, if they are still at `expected_revision`.
    pub async fn update_options(
        &self,
        org: OrgId,
        expected_revision: i64,
        change: impl FnOnce(&mut OrgOptions) -> StoreResult<()>,
    ) -> StoreResult<Versioned<OrgOptions>> {
        let txn = self.connection().begin().await?;
        let revision = next_revision(&txn, org).await?;
        let row = settings_row(&txn, org, Layer::Draft)
            .await?
            .ok_or_else(|| StoreError::NotFound("settings".into()))?;
        if row.revision != expected_revision {
            return Err(stale("The PBX settings".into(), row.revision));
        }
        let mut options = options_from_row(&row)?;
        change(&mut options)?;
        let mut model = options_to_row(org, Layer::Draft, &options, revision);
        model.id = sea_orm::ActiveValue::Unchanged(row.id);
        model.update(&txn).await?;
        txn.commit().await?;
        Ok(Versioned {
            value: options,
            revision,
        })
    }
}

async fn find_draft_extension<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    number: &ExtensionNumber,
) -> StoreResult<extensions::Model> {
    extensions::Entity::find()
        .filter(extensions::Column::OrgId.eq(org.0))
        .filter(extensions::Column::Layer.eq(Layer::Draft.as_str()))
        .filter(extensions::Column::Number.eq(number.as_str()))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("Extension {number}")))
}
