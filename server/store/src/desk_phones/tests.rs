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
    let secrets = testkit::fixtures::reception_secrets(&domain, "pw");
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(slug).unwrap(),
        sip_domain: domain,
        limits: OrgLimits::default(),
    };
    store.create_org(&new, secrets).await.unwrap().id
}

fn phone(mac: &str, extension: Option<&str>) -> NewDeskPhone {
    NewDeskPhone {
        mac: mac.to_owned(),
        model: "yealink-t4x-t5x".to_owned(),
        extension: extension.map(|e| ExtensionNumber::parse(e).unwrap()),
        http_username: format!("ph{mac}"),
    }
}

db_test!(phones_are_added_all_or_none, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let globex = new_org(&store, "globex").await;
    let added = store
        .add_desk_phones(
            acme,
            &[
                phone("001565000001", Some("101")),
                phone("001565000002", None),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0].extension.as_ref().unwrap().as_str(), "101");
    // A shipment where one MAC belongs to another org adds nothing.
    let err = store
        .add_desk_phones(
            globex,
            &[phone("001565000003", None), phone("001565000001", None)],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("00:15:65:00:00:01") && !m.contains("acme")),
        "{err:?}"
    );
    assert!(store.desk_phones(globex).await.unwrap().is_empty());
    assert_eq!(store.desk_phones(acme).await.unwrap().len(), 2);
});

db_test!(another_orgs_phone_is_not_found, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let globex = new_org(&store, "globex").await;
    store
        .add_desk_phones(acme, &[phone("001565000001", Some("101"))])
        .await
        .unwrap();
    assert!(store
        .desk_phone(globex, "001565000001")
        .await
        .unwrap()
        .is_none());
    let moved = store
        .update_desk_phone(globex, "001565000001", "snom-d", None)
        .await;
    assert!(matches!(moved, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.retire_desk_phone(globex, "001565000001").await,
        Err(StoreError::NotFound(_))
    ));
    let kept = store
        .desk_phone(acme, "001565000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.extension.unwrap().as_str(), "101");
    assert_eq!(kept.model, "yealink-t4x-t5x");
});

db_test!(
    a_removed_phone_keeps_its_row_until_its_mac_is_added_again,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        store
            .add_desk_phones(acme, &[phone("001565000001", Some("101"))])
            .await
            .unwrap();
        store
            .update_desk_phone(
                acme,
                "001565000001",
                "yealink-t4x-t5x",
                Some(&ExtensionNumber::parse("102").unwrap()),
            )
            .await
            .unwrap();
        store.retire_desk_phone(acme, "001565000001").await.unwrap();
        assert!(store.desk_phones(acme).await.unwrap().is_empty());
        let retired = store
            .desk_phone(acme, "001565000001")
            .await
            .unwrap()
            .unwrap();
        assert!(retired.retired_at.is_some());
        assert_eq!(retired.extension, None);
        // Removing it twice, or changing it, finds nothing.
        assert!(store.retire_desk_phone(acme, "001565000001").await.is_err());
        // Another org may now add it; the old row goes.
        store
            .add_desk_phones(globex, &[phone("001565000001", None)])
            .await
            .unwrap();
        assert!(store
            .desk_phone(acme, "001565000001")
            .await
            .unwrap()
            .is_none());
        assert!(store
            .desk_phone(globex, "001565000001")
            .await
            .unwrap()
            .is_some());
        // Purging forgets only retired rows.
        store
            .retire_desk_phone(globex, "001565000001")
            .await
            .unwrap();
        store
            .add_desk_phones(acme, &[phone("001565000009", None)])
            .await
            .unwrap();
        assert_eq!(
            store.purge_retired_desk_phones(now_ms() + 1).await.unwrap(),
            1
        );
        assert!(store
            .desk_phone(acme, "001565000009")
            .await
            .unwrap()
            .is_some());
    }
);

db_test!(
    sip_passwords_are_kept_per_org_and_hash,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let hash = "0123456789abcdef0123456789abcdef";
        store
            .keep_sip_password(acme, hash, "sealed-1")
            .await
            .unwrap();
        store
            .keep_sip_password(acme, hash, "sealed-2")
            .await
            .unwrap();
        assert_eq!(
            store
                .sealed_sip_password(acme, hash)
                .await
                .unwrap()
                .as_deref(),
            Some("sealed-1")
        );
        assert_eq!(store.sealed_sip_password(globex, hash).await.unwrap(), None);
        store
            .record_desk_phone_fetch(acme, "nosuchmac000", Some("127.0.0.1"))
            .await
            .unwrap();
    }
);
