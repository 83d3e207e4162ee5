//! Single-use provisioning links (the QR codes of the phone help pages).
//!
//! Invariants:
//! - Only the SHA-256 of a link's token is stored; the caller hashes (no secret passes here).
//! - A link is found only through the org it was made for: a token of org A asked on org B's
//!   host is "not found", exactly like a token that never existed.
//! - A link works once: redemption is one conditional `UPDATE ... WHERE used_at IS NULL AND
//!   expires_at > now`, so two phones racing for the same link cannot both get it, on either
//!   database and with several LittlePBX instances.

use domain::ExtensionNumber;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::{now_ms, OrgId, Store, StoreError, StoreResult};

/// Links that ended (used or expired) more than this long ago are removed when the org makes a
/// new one; until then they still answer "used" or "expired" instead of "not found".
const KEEP_ENDED_MS: i64 = 24 * 3600 * 1000;

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provisioning_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub extension: String,
        pub token_hash: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub used_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What asking for a link by its token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// The link was valid and is now spent: serve this extension's configuration.
    Redeemed(ExtensionNumber),
    /// The link was used before.
    AlreadyUsed,
    /// The link's time is over.
    Expired,
    /// No such link for this org.
    NotFound,
}

impl Store {
    /// Stores a new link for `extension` of `org`, valid until `expires_at` (ms). Also forgets
    /// the org's links that ended long ago, so the table stays small without a sweeper.
    pub async fn create_provisioning_link(
        &self,
        org: OrgId,
        extension: &ExtensionNumber,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        let now = now_ms();
        entity::Entity::delete_many()
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::ExpiresAt.lt(now - KEEP_ENDED_MS))
            .exec(self.connection())
            .await?;
        let row = entity::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            org_id: sea_orm::ActiveValue::Set(org.0),
            extension: sea_orm::ActiveValue::Set(extension.to_string()),
            token_hash: sea_orm::ActiveValue::Set(token_hash.to_owned()),
            created_at: sea_orm::ActiveValue::Set(now),
            expires_at: sea_orm::ActiveValue::Set(expires_at),
            used_at: sea_orm::ActiveValue::Set(None),
        };
        match row.insert(self.connection()).await {
            Ok(_) => Ok(()),
            Err(err) if crate::is_unique_violation(&err) => Err(StoreError::Conflict(
                "This provisioning link exists already; make a new one.".into(),
            )),
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

    /// Spends the org's link with this token hash, if it is still valid at `now` (ms).
    pub async fn redeem_provisioning_link(
        &self,
        org: OrgId,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Redemption> {
        let Some(row) = entity::Entity::find()
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::TokenHash.eq(token_hash))
            .one(self.connection())
            .await?
        else {
            return Ok(Redemption::NotFound);
        };
        if row.used_at.is_some() {
            return Ok(Redemption::AlreadyUsed);
        }
        if row.expires_at <= now {
            return Ok(Redemption::Expired);
        }
        let spent = entity::Entity::update_many()
            .col_expr(entity::Column::UsedAt, Expr::value(now))
            .filter(entity::Column::Id.eq(row.id))
            .filter(entity::Column::OrgId.eq(org.0))
            .filter(entity::Column::UsedAt.is_null())
            .filter(entity::Column::ExpiresAt.gt(now))
            .exec(self.connection())
            .await?;
        if spent.rows_affected != 1 {
            // Someone else redeemed it between the read and the update.
            return Ok(Redemption::AlreadyUsed);
        }
        let extension = ExtensionNumber::parse(&row.extension)
            .map_err(|e| StoreError::Corrupt(format!("provisioning link {}: {e}", row.id)))?;
        Ok(Redemption::Redeemed(extension))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use domain::defaults::ReceptionSecrets;
    use domain::*;
    use testkit::db_test;

    use super::*;
    use crate::orgs::{NewOrg, OrgLimits};

    async fn open(url: &str) -> Store {
        let store = Store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate");
        store
    }

    async fn new_org(store: &Store, slug: &str) -> OrgId {
        let domain = SipDomain::parse(&format!("pbx.{slug}.test")).unwrap();
        let secrets = ReceptionSecrets {
            a1_hash: A1Hash::compute(&ExtensionNumber::parse("100").unwrap(), &domain, "pw"),
            voicemail_pin: VoicemailPin::parse("1234").unwrap(),
        };
        let new = NewOrg {
            slug: OrgSlug::parse(slug).unwrap(),
            name: CompanyName::parse(slug).unwrap(),
            sip_domain: domain,
            limits: OrgLimits::default(),
        };
        store.create_org(&new, secrets).await.unwrap().id
    }

    fn ext(number: &str) -> ExtensionNumber {
        ExtensionNumber::parse(number).unwrap()
    }

    db_test!(a_link_works_once, |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let now = now_ms();
        store
            .create_provisioning_link(org, &ext("101"), &"a".repeat(64), now + 60_000)
            .await
            .unwrap();
        assert_eq!(
            store
                .redeem_provisioning_link(org, &"a".repeat(64), now)
                .await
                .unwrap(),
            Redemption::Redeemed(ext("101"))
        );
        assert_eq!(
            store
                .redeem_provisioning_link(org, &"a".repeat(64), now)
                .await
                .unwrap(),
            Redemption::AlreadyUsed
        );
        assert_eq!(
            store
                .redeem_provisioning_link(org, &"b".repeat(64), now)
                .await
                .unwrap(),
            Redemption::NotFound
        );
    });

    db_test!(links_expire, |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let now = now_ms();
        store
            .create_provisioning_link(org, &ext("101"), &"c".repeat(64), now - 1)
            .await
            .unwrap();
        assert_eq!(
            store
                .redeem_provisioning_link(org, &"c".repeat(64), now)
                .await
                .unwrap(),
            Redemption::Expired
        );
        // A link valid now is expired later: the clock is the caller's.
        store
            .create_provisioning_link(org, &ext("102"), &"d".repeat(64), now + 1_000)
            .await
            .unwrap();
        assert_eq!(
            store
                .redeem_provisioning_link(org, &"d".repeat(64), now + 1_000)
                .await
                .unwrap(),
            Redemption::Expired
        );
    });

    db_test!(links_belong_to_their_org, |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let other = new_org(&store, "other").await;
        let now = now_ms();
        store
            .create_provisioning_link(acme, &ext("101"), &"e".repeat(64), now + 60_000)
            .await
            .unwrap();
        assert_eq!(
            store
                .redeem_provisioning_link(other, &"e".repeat(64), now)
                .await
                .unwrap(),
            Redemption::NotFound,
            "another org's token is not found"
        );
        assert_eq!(
            store
                .redeem_provisioning_link(acme, &"e".repeat(64), now)
                .await
                .unwrap(),
            Redemption::Redeemed(ext("101")),
            "and was not spent by the attempt"
        );
    });

    db_test!(
        old_links_are_forgotten_and_orgs_cascade,
        |url: String| async move {
            let store = open(&url).await;
            let org = new_org(&store, "acme").await;
            let now = now_ms();
            store
                .create_provisioning_link(
                    org,
                    &ext("101"),
                    &"f".repeat(64),
                    now - KEEP_ENDED_MS - 1,
                )
                .await
                .unwrap();
            store
                .create_provisioning_link(org, &ext("101"), &"g".repeat(64), now + 60_000)
                .await
                .unwrap();
            assert_eq!(
                store
                    .redeem_provisioning_link(org, &"f".repeat(64), now)
                    .await
                    .unwrap(),
                Redemption::NotFound,
                "the long-ended link was removed when the next one was made"
            );
            assert!(matches!(
                store
                    .create_provisioning_link(org, &ext("102"), &"g".repeat(64), now + 60_000)
                    .await,
                Err(StoreError::Conflict(_))
            ));
            store.delete_org(org, &[]).await.unwrap();
            let left = entity::Entity::find()
                .all(store.connection())
                .await
                .unwrap();
            assert!(left.is_empty(), "{left:?}");
            assert!(matches!(
                store
                    .create_provisioning_link(org, &ext("101"), &"h".repeat(64), now + 60_000)
                    .await,
                Err(StoreError::NotFound(_))
            ));
        }
    );
}
