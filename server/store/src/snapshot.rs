//! What the XML endpoint needs: each org's applied state, and cheap ways to notice changes.

use domain::{OrgConfig, E164};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    Statement, TransactionTrait,
};

use crate::draft::{load_layer_in, owned_dids};
use crate::entities::organizations;
use crate::orgs::Org;
use crate::telephony::{trunks_in, StoredTrunk};
use crate::{Layer, OrgId, Store, StoreError, StoreResult};

/// Everything FreeSWITCH may be told about one org, read in one transaction so that the parts
/// agree with each other. Serializable for the local snapshot file (secrets stay as stored:
/// trunk passwords encrypted, SIP credentials as hashes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AppliedSnapshot {
    pub org: Org,
    pub config: OrgConfig,
    pub dids: Vec<E164>,
    pub trunks: Vec<StoredTrunk>,
}

impl Store {
    pub async fn applied_snapshot(&self, org: OrgId) -> StoreResult<AppliedSnapshot> {
        let txn = self.connection().begin().await?;
        let record = crate::orgs::org_in(&txn, org).await?;
        let config = load_layer_in(&txn, org, Layer::Applied).await?.normalized();
        let dids = owned_dids(&txn, org).await?;
        let trunks = trunks_in(&txn, org).await?;
        txn.commit().await?;
        Ok(AppliedSnapshot {
            org: record,
            config,
            dids,
            trunks,
        })
    }

    /// The global XML epoch: it moves whenever anything FreeSWITCH sees changes.
    pub async fn xml_epoch(&self) -> StoreResult<i64> {
        read_xml_epoch(self.connection()).await
    }

    /// Every org's `xml_version`, to find the snapshots that changed.
    pub async fn xml_versions(&self) -> StoreResult<Vec<(OrgId, i64)>> {
        #[derive(FromQueryResult)]
        struct Row {
            id: i64,
            xml_version: i64,
        }
        Ok(organizations::Entity::find()
            .select_only()
            .column(organizations::Column::Id)
            .column(organizations::Column::XmlVersion)
            .filter(organizations::Column::Id.gt(0))
            .into_model::<Row>()
            .all(self.connection())
            .await?
            .into_iter()
            .map(|r| (OrgId(r.id), r.xml_version))
            .collect())
    }
}

impl Store {
    /// The applied snapshots of the next `limit` orgs with an id above `after` (all orgs when
    /// called page by page), read in a handful of queries per page rather than a round per
    /// org: how an instance fills its XML cache at start-up without holding every row at once.
    pub async fn applied_snapshots_page(
        &self,
        after: Option<OrgId>,
        limit: u64,
    ) -> StoreResult<Vec<AppliedSnapshot>> {
        use std::collections::BTreeMap;

        use crate::convert::{extension_from_row, options_from_row, route_from_row};
        use crate::entities::{did_routes, dids, extensions, org_settings, trunks};
        use sea_orm::QueryOrder;

        let txn = self.connection().begin().await?;
        let orgs = crate::orgs::orgs_page_in(&txn, after, limit).await?;
        let (Some(first), Some(last)) = (orgs.first().map(|o| o.id.0), orgs.last().map(|o| o.id.0))
        else {
            txn.commit().await?;
            return Ok(vec![]);
        };
        let mut by_org: BTreeMap<i64, AppliedSnapshot> = orgs
            .into_iter()
            .map(|org| {
                (
                    org.id.0,
                    AppliedSnapshot {
                        org,
                        config: OrgConfig::default(),
                        dids: vec![],
                        trunks: vec![],
                    },
                )
            })
            .collect();
        let applied = Layer::Applied.as_str();
        for row in extensions::Entity::find()
            .filter(extensions::Column::OrgId.between(first, last))
            .filter(extensions::Column::Layer.eq(applied))
            .order_by_asc(extensions::Column::OrgId)
            .order_by_asc(extensions::Column::Number)
            .all(&txn)
            .await?
        {
            if let Some(snapshot) = by_org.get_mut(&row.org_id) {
                snapshot.config.extensions.push(extension_from_row(&row)?);
            }
        }
        for row in did_routes::Entity::find()
            .filter(did_routes::Column::OrgId.between(first, last))
            .filter(did_routes::Column::Layer.eq(applied))
            .order_by_asc(did_routes::Column::Did)
            .all(&txn)
            .await?
        {
            if let Some(snapshot) = by_org.get_mut(&row.org_id) {
                snapshot.config.did_routes.push(route_from_row(&row)?);
            }
        }
        for row in org_settings::Entity::find()
            .filter(org_settings::Column::OrgId.between(first, last))
            .filter(org_settings::Column::Layer.eq(applied))
            .all(&txn)
            .await?
        {
            if let Some(snapshot) = by_org.get_mut(&row.org_id) {
                snapshot.config.options = options_from_row(&row)?;
            }
        }
        for row in dids::Entity::find()
            .filter(dids::Column::OrgId.between(first, last))
            .order_by_asc(dids::Column::E164)
            .all(&txn)
            .await?
        {
            if let Some(snapshot) = by_org.get_mut(&row.org_id) {
                let did = E164::parse(&row.e164)
                    .map_err(|e| StoreError::Corrupt(format!("DID row {}: {e}", row.id)))?;
                snapshot.dids.push(did);
            }
        }
        for row in trunks::Entity::find()
            .filter(trunks::Column::OrgId.between(first, last))
            .order_by_asc(trunks::Column::Role)
            .all(&txn)
            .await?
        {
            if let Some(snapshot) = by_org.get_mut(&row.org_id) {
                snapshot
                    .trunks
                    .push(crate::telephony::trunk_from_row(&row)?);
            }
        }
        txn.commit().await?;
        Ok(by_org.into_values().collect())
    }
}

/// The global XML epoch as `conn` sees it (inside a transaction: including its own bumps).
pub(crate) async fn read_xml_epoch<C: ConnectionTrait>(conn: &C) -> StoreResult<i64> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT epoch FROM xml_epoch WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("xml_epoch row is missing".into()))?;
    Ok(row.try_get::<i64>("", "epoch")?)
}
