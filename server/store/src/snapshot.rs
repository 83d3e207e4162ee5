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
/// agree with each other.
#[derive(Debug, Clone)]
pub struct AppliedSnapshot {
    pub org: Org,
    pub config: OrgConfig,
    pub dids: Vec<E164>,
    pub trunks: Vec<StoredTrunk>,
}

impl Store {
    pub async fn applied_snapshot(&self, org: OrgId) -> StoreResult<AppliedSnapshot> {
        let txn = self.connection().begin().await?;
        let record = self.org(org).await?;
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
        let row = self
            .connection()
            .query_one_raw(Statement::from_string(
                self.backend(),
                "SELECT epoch FROM xml_epoch WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt("xml_epoch row is missing".into()))?;
        Ok(row.try_get::<i64>("", "epoch")?)
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
