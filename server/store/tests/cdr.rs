//! Call records in the store, on SQLite and MariaDB (each test runs on both).

use domain::defaults::ReceptionSecrets;
use domain::*;
use store::cdr::{
    CdrDirection, ExtensionRole, NewCdr, OrphanCdr, Stored, DID_MAX, OTHER_PARTY_MAX,
};
use store::orgs::{NewOrg, OrgLimits};
use store::{OrgId, Store};
use testkit::db_test;

async fn open(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn new_org(store: &Store, slug: &str) -> OrgId {
    let domain = SipDomain::parse(&format!("pbx.{slug}.test")).unwrap();
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(&format!("{slug} Inc.")).unwrap(),
        sip_domain: domain.clone(),
        limits: OrgLimits::default(),
    };
    let secrets = ReceptionSecrets {
        a1_hash: A1Hash::compute(&ExtensionNumber::parse("100").unwrap(), &domain, "pw"),
        voicemail_pin: VoicemailPin::parse("1234").unwrap(),
    };
    store.create_org(&new, secrets).await.unwrap().id
}

const T0: i64 = 1_790_000_000_000;
const MIN: i64 = 60_000;

fn call(uuid: &str, start: i64, direction: CdrDirection, answered: bool, billsec: u32) -> NewCdr {
    NewCdr {
        call_uuid: uuid.into(),
        start_ms: start,
        answer_ms: answered.then_some(start + 5_000),
        end_ms: start + 5_000 + i64::from(billsec) * 1000,
        duration_s: 5 + billsec,
        billsec,
        direction,
        answered,
        extension: Some("101".into()),
        did: None,
        other_party: Some("+4930123456".into()),
        hangup_cause: "NORMAL_CLEARING".into(),
    }
}

db_test!(
    insert_is_idempotent_on_the_call_uuid,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let c = call("u-1", T0, CdrDirection::Out, true, 30);
        assert_eq!(store.insert_cdr(acme, &c).await.unwrap(), Stored::New);
        assert_eq!(store.insert_cdr(acme, &c).await.unwrap(), Stored::Duplicate);
        // The same UUID for another org is still the same call: never stored twice.
        assert_eq!(
            store.insert_cdr(globex, &c).await.unwrap(),
            Stored::Duplicate
        );
        let acme_calls = store.recent_cdrs(acme, None, 10).await.unwrap();
        assert_eq!(acme_calls.len(), 1);
        assert_eq!(acme_calls[0].cdr, c);
        assert!(store
            .recent_cdrs(globex, None, 10)
            .await
            .unwrap()
            .is_empty());
    }
);

db_test!(
    long_texts_are_cut_to_the_columns,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let mut c = call("u-long", T0, CdrDirection::In, false, 0);
        c.other_party = Some("Ünïcødé caller ".repeat(20));
        c.did = Some("+".to_owned() + &"1".repeat(40));
        store.insert_cdr(acme, &c).await.unwrap();
        let stored = &store.recent_cdrs(acme, None, 1).await.unwrap()[0].cdr;
        assert_eq!(
            stored.other_party.as_deref().unwrap().chars().count(),
            OTHER_PARTY_MAX
        );
        assert!(stored
            .other_party
            .as_deref()
            .unwrap()
            .starts_with("Ünïcødé"));
        assert_eq!(stored.did.as_deref().unwrap().len(), DID_MAX);
    }
);

db_test!(
    slots_total_one_org_and_one_period,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let calls = [
            call("a", T0, CdrDirection::In, true, 60),
            call("b", T0 + 10 * MIN, CdrDirection::In, false, 0),
            call("c", T0 + 14 * MIN, CdrDirection::Out, true, 120),
            call("d", T0 + 20 * MIN, CdrDirection::Internal, true, 30),
            call("e", T0 + 61 * MIN, CdrDirection::Out, false, 0),
            // Outside the period: before and at its end.
            call("f", T0 - 1, CdrDirection::In, true, 1000),
            call("g", T0 + 120 * MIN, CdrDirection::In, true, 1000),
        ];
        for c in &calls {
            store.insert_cdr(acme, c).await.unwrap();
        }
        store
            .insert_cdr(globex, &call("x", T0 + MIN, CdrDirection::In, true, 999))
            .await
            .unwrap();

        let slots = store
            .cdr_slots(acme, T0, T0 + 120 * MIN, 15 * MIN)
            .await
            .unwrap();
        let summary: Vec<_> = slots
            .iter()
            .map(|s| (s.slot, s.calls, s.calls_in, s.calls_out, s.calls_internal))
            .collect();
        assert_eq!(
            summary,
            vec![(0, 3, 2, 1, 0), (1, 1, 0, 0, 1), (4, 1, 0, 1, 0)]
        );
        let first = slots[0];
        assert_eq!((first.answered_in, first.answered_out), (1, 1));
        assert_eq!((first.billsec_in, first.billsec_out), (60, 120));
        assert_eq!(
            (slots[1].answered_internal, slots[1].billsec_internal),
            (1, 30)
        );

        let totals = store.cdr_totals(acme, T0, T0 + 120 * MIN).await.unwrap();
        assert_eq!(
            (
                totals.inbound.calls,
                totals.inbound.answered,
                totals.inbound.billsec
            ),
            (2, 1, 60)
        );
        assert_eq!(
            (
                totals.outbound.calls,
                totals.outbound.answered,
                totals.outbound.billsec
            ),
            (2, 1, 120)
        );
        assert_eq!(totals.internal.calls, 1);
        let nothing = store
            .cdr_totals(acme, T0 + 500 * MIN, T0 + 600 * MIN)
            .await
            .unwrap();
        assert_eq!(nothing, Default::default());
    }
);

db_test!(groups_per_extension_and_did, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let mut inbound = call("in-1", T0, CdrDirection::In, false, 0);
    inbound.extension = Some("102".into());
    inbound.did = Some("+15550100100".into());
    let mut out = call("out-1", T0 + MIN, CdrDirection::Out, true, 90);
    out.did = Some("+15550100100".into());
    let mut internal = call("int-1", T0 + 2 * MIN, CdrDirection::Internal, true, 40);
    internal.other_party = Some("102".into());
    for c in [&inbound, &out, &internal] {
        store.insert_cdr(acme, c).await.unwrap();
    }
    let mut groups = store
        .cdr_by_extension(acme, T0, T0 + 10 * MIN)
        .await
        .unwrap();
    groups.sort_by(|a, b| {
        (&a.extension, format!("{:?}", a.role)).cmp(&(&b.extension, format!("{:?}", b.role)))
    });
    let seen: Vec<_> = groups
        .iter()
        .map(|g| (g.extension.as_str(), g.role, g.calls, g.answered, g.billsec))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("101", ExtensionRole::Own(CdrDirection::Internal), 1, 1, 40),
            ("101", ExtensionRole::Own(CdrDirection::Out), 1, 1, 90),
            ("102", ExtensionRole::CalledInternally, 1, 1, 40),
            ("102", ExtensionRole::Own(CdrDirection::In), 1, 0, 0),
        ]
    );
    let mut dids = store.cdr_by_did(acme, T0, T0 + 10 * MIN).await.unwrap();
    dids.sort_by_key(|d| d.direction);
    let seen: Vec<_> = dids
        .iter()
        .map(|d| (d.did.as_str(), d.direction, d.calls, d.answered, d.billsec))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("+15550100100", CdrDirection::In, 1, 0, 0),
            ("+15550100100", CdrDirection::Out, 1, 1, 90),
        ]
    );
});

db_test!(recent_calls_page_stably, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    // 25 calls, several starting in the same millisecond.
    for i in 0..25 {
        let start = T0 + (i / 3) * 1000;
        let c = call(&format!("p-{i:02}"), start, CdrDirection::Out, true, 1);
        store.insert_cdr(acme, &c).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.recent_cdrs(acme, before, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        // A call arriving meanwhile (newer than everything) does not shift the pages.
        store
            .insert_cdr(
                acme,
                &call(
                    &format!("late-{}", seen.len()),
                    T0 + 100_000,
                    CdrDirection::In,
                    true,
                    1,
                ),
            )
            .await
            .unwrap();
        let last = page.last().unwrap();
        before = Some((last.cdr.start_ms, last.id));
        seen.extend(
            page.into_iter()
                .map(|r| (r.cdr.start_ms, r.id, r.cdr.call_uuid)),
        );
    }
    assert_eq!(seen.len(), 25, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    assert_eq!(seen, sorted, "newest first, no call twice");
    assert!(seen.iter().all(|s| s.2.starts_with("p-")));
});

db_test!(
    old_records_are_pruned_in_batches,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        for i in 0..12 {
            let c = call(&format!("old-{i}"), T0 + i, CdrDirection::In, true, 1);
            store.insert_cdr(acme, &c).await.unwrap();
        }
        store
            .insert_cdr(acme, &call("new", T0 + 10 * MIN, CdrDirection::In, true, 1))
            .await
            .unwrap();
        assert_eq!(store.prune_cdrs(T0 + MIN, 5).await.unwrap(), 5);
        assert_eq!(store.prune_cdrs(T0 + MIN, 5).await.unwrap(), 5);
        assert_eq!(store.prune_cdrs(T0 + MIN, 5).await.unwrap(), 2);
        assert_eq!(store.prune_cdrs(T0 + MIN, 5).await.unwrap(), 0);
        let left = store.recent_cdrs(acme, None, 100).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].cdr.call_uuid, "new");
    }
);

db_test!(orphans_are_kept_apart, |url: String| async move {
    let store = open(&url).await;
    let acme = new_org(&store, "acme").await;
    let orphan = OrphanCdr {
        cdr: call("o-1", T0, CdrDirection::In, false, 0),
        reason: "unknown org \"nope\"".into(),
        org_marker: Some("nope".into()),
        domain_name: Some("pbx.nope.test".into()),
        received_ms: T0 + 1000,
    };
    assert_eq!(store.insert_orphan_cdr(&orphan).await.unwrap(), Stored::New);
    assert_eq!(
        store.insert_orphan_cdr(&orphan).await.unwrap(),
        Stored::Duplicate
    );
    let kept = store.orphan_cdrs(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].orphan, orphan);
    assert!(store.recent_cdrs(acme, None, 10).await.unwrap().is_empty());
    assert_eq!(store.prune_cdr_orphans(T0 + 1000, 10).await.unwrap(), 0);
    assert_eq!(store.prune_cdr_orphans(T0 + 1001, 10).await.unwrap(), 1);
    assert!(store.orphan_cdrs(10).await.unwrap().is_empty());
});

db_test!(
    deleting_an_org_deletes_its_records,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        store
            .insert_cdr(acme, &call("a", T0, CdrDirection::In, true, 1))
            .await
            .unwrap();
        store
            .insert_cdr(globex, &call("g", T0, CdrDirection::In, true, 1))
            .await
            .unwrap();
        store.delete_org(acme, &[]).await.unwrap();
        assert_eq!(
            store.cdr_totals(acme, 0, i64::MAX).await.unwrap(),
            Default::default()
        );
        assert_eq!(store.recent_cdrs(globex, None, 10).await.unwrap().len(), 1);
        // The UUID is free again only because the row is gone.
        let again = new_org(&store, "acme2").await;
        assert_eq!(
            store
                .insert_cdr(again, &call("a", T0, CdrDirection::In, true, 1))
                .await
                .unwrap(),
            Stored::New
        );
    }
);
