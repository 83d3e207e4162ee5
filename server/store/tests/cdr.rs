//! Call records in the store, on SQLite and MariaDB (each test runs on both).

use domain::*;
use sea_orm::ConnectionTrait;
use store::cdr::{
    CdrDirection, DidTotals, ExtensionTotals, NewCdr, OrphanCdr, Stored, DAY_MS, DID_MAX,
    OTHER_PARTY_MAX, SLOT_MS,
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
    let secrets = testkit::fixtures::reception_secrets(&domain, "pw");
    store.create_org(&new, secrets).await.unwrap().id
}

/// A 15-minute boundary (not a midnight).
const T0: i64 = 1_790_000_100_000;
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

        let slots = store.cdr_slots(acme, T0, T0 + 120 * MIN).await.unwrap();
        let summary: Vec<_> = slots
            .iter()
            .map(|s| {
                let index = (s.slot_ms - T0) / (15 * MIN);
                (index, s.calls, s.calls_in, s.calls_out, s.calls_internal)
            })
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
    let exts = store
        .cdr_by_extension(acme, T0, T0 + 10 * MIN)
        .await
        .unwrap();
    let ext = |e: &str, c: [u64; 6]| ExtensionTotals {
        extension: e.into(),
        calls_in: c[0],
        calls_out: c[1],
        calls_internal: c[2],
        answered: c[3],
        missed: c[4],
        billsec: c[5],
    };
    assert_eq!(
        exts,
        vec![
            // Made: one call out (answered, 90 s), one internal (answered, 40 s).
            ext("101", [0, 1, 1, 2, 0, 130]),
            // Rang from the DID (missed), and called internally (answered).
            ext("102", [1, 0, 1, 1, 1, 40]),
        ]
    );
    let dids = store.cdr_by_did(acme, T0, T0 + 10 * MIN).await.unwrap();
    assert_eq!(
        dids,
        vec![DidTotals {
            did: "+15550100100".into(),
            calls_in: 1,
            answered_in: 0,
            billsec_in: 0,
            calls_out: 1,
            billsec_out: 90,
        }]
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
        let rollups = store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(
                store.backend(),
                "SELECT (SELECT COUNT(*) FROM cdr_slots) + (SELECT COUNT(*) FROM cdr_ext_days) \
                 + (SELECT COUNT(*) FROM cdr_did_days)",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(rollups, 2, "only globex's slot and extension-day are left");
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

/// xorshift: deterministic test data.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn random_calls(rng: &mut Rng, prefix: &str, count: usize) -> Vec<NewCdr> {
    (0..count)
        .map(|i| {
            let direction = match rng.below(3) {
                0 => CdrDirection::In,
                1 => CdrDirection::Out,
                _ => CdrDirection::Internal,
            };
            let answered = rng.below(4) != 0;
            let billsec = if answered { rng.below(300) as u32 } else { 0 };
            let start = T0 + rng.below(5 * DAY_MS as u64) as i64;
            let ext = format!("{}", 101 + rng.below(4));
            let other = match direction {
                CdrDirection::Internal => match rng.below(5) {
                    0 => "*97".to_owned(),
                    1 => "0123".to_owned(),
                    _ => format!("{}", 101 + rng.below(4)),
                },
                _ => "+4930123456".to_owned(),
            };
            let did = match direction {
                CdrDirection::Internal => None,
                _ => [None, Some("+15550100100"), Some("+15550100101")][rng.below(3) as usize]
                    .map(str::to_owned),
            };
            let mut c = call(
                &format!("{prefix}-{i}"),
                start,
                direction,
                answered,
                billsec,
            );
            c.extension = (rng.below(10) != 0).then_some(ext);
            c.other_party = Some(other);
            c.did = did;
            c
        })
        .collect()
}

fn expected_extensions(calls: &[&NewCdr]) -> Vec<ExtensionTotals> {
    let mut rows: std::collections::BTreeMap<String, ExtensionTotals> = Default::default();
    let mut add = |ext: &str, c: &NewCdr, column: usize, missed: bool| {
        let row = rows
            .entry(ext.to_owned())
            .or_insert_with(|| ExtensionTotals {
                extension: ext.to_owned(),
                ..Default::default()
            });
        match column {
            0 => row.calls_in += 1,
            1 => row.calls_out += 1,
            _ => row.calls_internal += 1,
        }
        row.answered += u64::from(c.answered);
        row.missed += u64::from(missed);
        row.billsec += u64::from(c.billsec);
    };
    for c in calls {
        if let Some(ext) = &c.extension {
            match c.direction {
                CdrDirection::In => add(ext, c, 0, !c.answered),
                CdrDirection::Out => add(ext, c, 1, false),
                CdrDirection::Internal => add(ext, c, 2, false),
            }
        }
        if c.direction == CdrDirection::Internal {
            let callee = c.other_party.as_deref().unwrap();
            if ExtensionNumber::parse(callee).is_ok() {
                add(callee, c, 2, !c.answered);
            }
        }
    }
    rows.into_values().collect()
}

fn expected_dids(calls: &[&NewCdr]) -> Vec<DidTotals> {
    let mut rows: std::collections::BTreeMap<String, DidTotals> = Default::default();
    for c in calls {
        let Some(did) = &c.did else { continue };
        let row = rows.entry(did.clone()).or_insert_with(|| DidTotals {
            did: did.clone(),
            ..Default::default()
        });
        match c.direction {
            CdrDirection::In => {
                row.calls_in += 1;
                row.answered_in += u64::from(c.answered);
                row.billsec_in += u64::from(c.billsec);
            }
            CdrDirection::Out => {
                row.calls_out += 1;
                row.billsec_out += u64::from(c.billsec);
            }
            CdrDirection::Internal => {}
        }
    }
    rows.into_values().collect()
}

/// Every aggregate over ranges of whole days, whole slots, and ranges cut anywhere (raw
/// records at the edges), against totals computed here from the calls.
async fn check_ranges(store: &Store, org: OrgId, calls: &[NewCdr]) {
    let day0 = T0 - T0 % DAY_MS;
    let ranges = [
        (day0, day0 + 6 * DAY_MS),
        (T0 + 7 * 3_600_000 + 123, T0 + 3 * DAY_MS + 5 * 60_000),
        (
            day0 + DAY_MS + 30 * 60_000,
            day0 + DAY_MS + 30 * 60_000 + 8 * SLOT_MS,
        ),
        (T0 + 1, T0 + 2),
        (T0 + 17_777, T0 + 4 * DAY_MS + 12_345),
    ];
    for (from, to) in ranges {
        let inside: Vec<&NewCdr> = calls
            .iter()
            .filter(|c| c.start_ms >= from && c.start_ms < to)
            .collect();
        let slots = store.cdr_slots(org, from, to).await.unwrap();
        let total: u64 = slots.iter().map(|s| s.calls).sum();
        assert_eq!(total, inside.len() as u64, "{from}..{to}");
        for s in &slots {
            assert_eq!(s.slot_ms % SLOT_MS, 0);
            let here: Vec<&&NewCdr> = inside
                .iter()
                .filter(|c| c.start_ms - c.start_ms % SLOT_MS == s.slot_ms)
                .collect();
            assert_eq!(s.calls, here.len() as u64);
            let billsec_in: u64 = here
                .iter()
                .filter(|c| c.direction == CdrDirection::In)
                .map(|c| u64::from(c.billsec))
                .sum();
            assert_eq!(s.billsec_in, billsec_in);
        }
        let totals = store.cdr_totals(org, from, to).await.unwrap();
        let answered_out = inside
            .iter()
            .filter(|c| c.direction == CdrDirection::Out && c.answered)
            .count() as u64;
        assert_eq!(totals.outbound.answered, answered_out, "{from}..{to}");
        assert_eq!(
            store.cdr_by_extension(org, from, to).await.unwrap(),
            expected_extensions(&inside),
            "{from}..{to}"
        );
        assert_eq!(
            store.cdr_by_did(org, from, to).await.unwrap(),
            expected_dids(&inside),
            "{from}..{to}"
        );
    }
}

db_test!(
    running_totals_agree_with_the_records,
    |url: String| async move {
        let store = open(&url).await;
        let acme = new_org(&store, "acme").await;
        let globex = new_org(&store, "globex").await;
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let calls = random_calls(&mut rng, "a", 400);
        for c in &calls {
            store.insert_cdr(acme, c).await.unwrap();
        }
        for c in random_calls(&mut rng, "g", 100) {
            store.insert_cdr(globex, &c).await.unwrap();
        }
        // Retries change nothing.
        for c in calls.iter().take(50) {
            assert_eq!(store.insert_cdr(acme, c).await.unwrap(), Stored::Duplicate);
        }
        check_ranges(&store, acme, &calls).await;
        // Rebuilt from the records, the totals are the same.
        store.rebuild_cdr_rollups(Some(acme)).await.unwrap();
        check_ranges(&store, acme, &calls).await;
        store.rebuild_cdr_rollups(None).await.unwrap();
        check_ranges(&store, acme, &calls).await;
    }
);
