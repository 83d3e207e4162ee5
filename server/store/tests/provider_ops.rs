//! Store operations of the provider API whose FreeSWITCH commands depend on the state they
//! change (trunks, org status), on SQLite and MariaDB.

use std::sync::{Arc, Mutex};

use domain::trunk::*;
use domain::*;
use store::orgs::{NewOrg, Org, OrgLimits, OrgUpdate};
use store::telephony::{PasswordChange, StoredTrunk};
use store::{OrgId, Store, StoreError};
use testkit::db_test;

async fn open(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn new_org(store: &Store, slug: &str) -> OrgId {
    let domain = SipDomain::parse(&format!("pbx.{slug}.test")).unwrap();
    let secrets = testkit::fixtures::reception_secrets(&domain, "pw");
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(&format!("{slug} Inc.")).unwrap(),
        sip_domain: domain,
        limits: OrgLimits::default(),
    };
    store
        .create_org(&new, secrets)
        .await
        .expect("create org")
        .id
}

fn own(host: &str) -> TrunkConfig {
    TrunkConfig::Own(TrunkSettings {
        username: SipUser::parse("trunk").unwrap(),
        auth_username: None,
        host: SipHost::parse(host).unwrap(),
        proxy: None,
        port: 5060,
        transport: Transport::Udp,
        register: false,
        realm: None,
        from_user: None,
        from_domain: None,
        caller_id_in_from: false,
        expire_seconds: 3600,
        allowed_cidrs: vec![],
    })
}

fn hosts(trunks: &[StoredTrunk]) -> Vec<String> {
    trunks
        .iter()
        .map(|t| match &t.config {
            TrunkConfig::Own(s) => format!("{}:{}", t.role.as_str(), s.host),
            TrunkConfig::SameAsInbound => format!("{}:same", t.role.as_str()),
        })
        .collect()
}

async fn queued(store: &Store) -> Vec<(Option<OrgId>, String)> {
    store
        .pending_fs_commands(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.org, c.command))
        .collect()
}

/// The trunk hosts each command builder call saw: (before, after).
type Seen = Arc<Mutex<Vec<(Vec<String>, Vec<String>)>>>;

db_test!(
    trunk_commands_see_the_trunks_before_and_after,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let other = new_org(&store, "globex").await;
        let seen = Arc::new(Mutex::new(Vec::new()));

        let record = |seen: &Seen| {
            let seen = seen.clone();
            move |before: &[StoredTrunk], after: &[StoredTrunk]| {
                seen.lock().unwrap().push((hosts(before), hosts(after)));
                vec![format!("restart {}", hosts(after).join(","))]
            }
        };
        store
            .set_trunk_with(
                org,
                TrunkRole::Inbound,
                &own("a.example"),
                PasswordChange::Set("enc".into()),
                record(&seen),
            )
            .await
            .unwrap();
        store
            .set_trunk_with(
                org,
                TrunkRole::Outbound,
                &TrunkConfig::SameAsInbound,
                PasswordChange::Keep,
                record(&seen),
            )
            .await
            .unwrap();
        let saved = store
            .set_trunk_with(
                org,
                TrunkRole::Inbound,
                &own("b.example"),
                PasswordChange::Keep,
                record(&seen),
            )
            .await
            .unwrap();
        assert_eq!(
            saved.password_enc.as_deref(),
            Some("enc"),
            "Keep keeps the password"
        );
        store
            .remove_trunk_with(org, TrunkRole::Inbound, record(&seen))
            .await
            .unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (vec![], vec!["inbound:a.example".to_owned()]),
                (
                    vec!["inbound:a.example".to_owned()],
                    vec!["inbound:a.example".to_owned(), "outbound:same".to_owned()]
                ),
                (
                    vec!["inbound:a.example".to_owned(), "outbound:same".to_owned()],
                    vec!["inbound:b.example".to_owned(), "outbound:same".to_owned()]
                ),
                (
                    vec!["inbound:b.example".to_owned(), "outbound:same".to_owned()],
                    vec![]
                ),
            ]
        );
        let commands = queued(&store).await;
        assert_eq!(commands.len(), 4);
        assert!(commands.iter().all(|(o, _)| *o == Some(org)));
        assert_eq!(commands[3].1, "restart ");
        assert_eq!(store.pending_fs_commands_of(other).await.unwrap(), 0);
        assert!(store.trunks(org).await.unwrap().is_empty());

        // A refused change queues nothing and calls nothing.
        let calls = seen.lock().unwrap().len();
        let missing = store
            .remove_trunk_with(org, TrunkRole::Outbound, record(&seen))
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
        let foreign = store
            .set_trunk_with(
                OrgId(9999),
                TrunkRole::Inbound,
                &own("c.example"),
                PasswordChange::Keep,
                record(&seen),
            )
            .await;
        assert!(matches!(foreign, Err(StoreError::NotFound(_))));
        assert_eq!(seen.lock().unwrap().len(), calls);
        assert_eq!(queued(&store).await.len(), 4);
    }
);

db_test!(
    org_updates_queue_commands_from_the_status_before,
    |url: String| async move {
        let store = open(&url).await;
        let org = new_org(&store, "acme").await;
        let transition = |before: &Org, after: &Org| {
            if before.status == after.status {
                Vec::new()
            } else {
                vec![format!(
                    "{} -> {}",
                    before.status.as_str(),
                    after.status.as_str()
                )]
            }
        };
        let suspend = OrgUpdate {
            status: Some(OrgStatus::Suspended),
            ..OrgUpdate::default()
        };
        let updated = store
            .update_org_with(org, &suspend, transition)
            .await
            .unwrap();
        assert_eq!(updated.status, OrgStatus::Suspended);
        // Suspending again is no transition.
        store
            .update_org_with(org, &suspend, transition)
            .await
            .unwrap();
        let rename = OrgUpdate {
            name: Some(CompanyName::parse("Acme Two").unwrap()),
            ..OrgUpdate::default()
        };
        assert_eq!(
            store
                .update_org_with(org, &rename, transition)
                .await
                .unwrap()
                .name
                .as_str(),
            "Acme Two"
        );
        let activate = OrgUpdate {
            status: Some(OrgStatus::Active),
            ..OrgUpdate::default()
        };
        store
            .update_org_with(org, &activate, transition)
            .await
            .unwrap();
        assert_eq!(
            queued(&store).await,
            vec![
                (Some(org), "active -> suspended".to_owned()),
                (Some(org), "suspended -> active".to_owned()),
            ]
        );
        let missing = store
            .update_org_with(OrgId(9999), &rename, transition)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
        // The plain update still works and queues nothing.
        store.update_org(org, &rename).await.unwrap();
        assert_eq!(queued(&store).await.len(), 2);
    }
);
