//! Apply of an org with 1,000 extensions on MariaDB, beside 10 other orgs and beside 10,000 other
//! orgs of 100 extensions each (2 million extension rows in the two layers).
//!
//! `cargo bench -p store --bench apply` (uses `LITTLEPBX_TEST_MYSQL_URL` or starts a private
//! MariaDB). `LPBX_BENCH_ORGS=1000` shrinks the big database for a quick run. Each round changes
//! one extension of the draft and applies; the two databases are measured in alternation so
//! that machine noise hits both alike. Reports the median and p95 and their ratio.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use domain::defaults::ReceptionSecrets;
use domain::*;
use sea_orm::{ConnectionTrait, Statement};
use store::apply::ApplyRequest;
use store::orgs::{NewOrg, OrgLimits};
use store::{OrgId, Store};

const BIG_ORG_EXTENSIONS: usize = 1000;
const OTHER_ORG_EXTENSIONS: usize = 100;
const ROUNDS: usize = 40;

fn secrets(domain: &SipDomain) -> ReceptionSecrets {
    testkit::fixtures::reception_secrets(domain, "pw")
}

async fn create_org(store: &Store, slug: &str, max_extensions: u32) -> OrgId {
    let domain = SipDomain::parse(&format!("pbx.{slug}.bench")).unwrap();
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(slug).unwrap(),
        sip_domain: domain.clone(),
        limits: OrgLimits {
            max_extensions,
            ..OrgLimits::default()
        },
    };
    store.create_org(&new, secrets(&domain)).await.unwrap().id
}

/// Inserts `per_org` extensions into both layers of each org, many rows per statement.
async fn bulk_extensions(store: &Store, orgs: &[OrgId], per_org: usize) {
    let db = store.connection();
    let a1 = "0123456789abcdef0123456789abcdef";
    let mut rows = Vec::with_capacity(4000);
    let flush = |rows: &mut Vec<String>| {
        let sql = format!(
            "INSERT INTO extensions (org_id, layer, number, display_name, a1_hash, voicemail_enabled, voicemail_pin, \
             voicemail_email, ring_seconds, no_answer_action, no_answer_target, do_not_disturb, outbound_caller_id, revision) VALUES {}",
            rows.join(",")
        );
        rows.clear();
        sql
    };
    for org in orgs {
        for n in 0..per_org {
            for layer in ["draft", "applied"] {
                rows.push(format!(
                    "({}, '{layer}', '{}', 'Person {n}', '{a1}', 1, '1234', NULL, 20, 'voicemail', NULL, 0, NULL, 1)",
                    org.0,
                    10000 + n
                ));
            }
            if rows.len() >= 4000 {
                let sql = flush(&mut rows);
                db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                    .await
                    .unwrap();
            }
        }
    }
    if !rows.is_empty() {
        let sql = flush(&mut rows);
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
}

struct Setup {
    store: Store,
    big: OrgId,
    round: usize,
}

async fn setup(url: &str, other_orgs: usize) -> Setup {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    let mut others = Vec::with_capacity(other_orgs);
    for i in 0..other_orgs {
        others.push(create_org(&store, &format!("org{i}"), 1000).await);
    }
    bulk_extensions(&store, &others, OTHER_ORG_EXTENSIONS - 1).await;
    let big = create_org(&store, "big", 2000).await;
    bulk_extensions(&store, &[big], BIG_ORG_EXTENSIONS - 1).await;
    eprintln!(
        "seeded {other_orgs} other orgs in {:.1?}",
        started.elapsed()
    );
    Setup {
        store,
        big,
        round: 0,
    }
}

/// Changes one extension of the big org's draft (or, with `LPBX_BENCH_CHANGE=all`, every one of
/// them: the worst case), then measures the Apply.
async fn one_round(setup: &mut Setup) -> Duration {
    setup.round += 1;
    if std::env::var("LPBX_BENCH_CHANGE").is_ok_and(|v| v == "all") {
        return change_all_round(setup).await;
    }
    let number = ExtensionNumber::parse(&(10000 + setup.round % 900).to_string()).unwrap();
    let draft = setup.store.load_draft(setup.big).await.unwrap();
    let revision = draft
        .extensions
        .iter()
        .find(|e| e.value.number == number)
        .unwrap()
        .revision;
    let name = DisplayName::parse(&format!("Renamed {}", setup.round)).unwrap();
    setup
        .store
        .update_extension(setup.big, &number, revision, |e| {
            e.display_name = name;
            Ok(())
        })
        .await
        .unwrap();
    let emergency: BTreeSet<String> = ["112".into(), "911".into()].into();
    let request = ApplyRequest {
        applied_by: "bench",
        job_id: None,
        emergency_numbers: &emergency,
    };
    let started = Instant::now();
    let outcome = setup
        .store
        .prepare_apply(setup.big, &request)
        .await
        .unwrap()
        .commit(vec![])
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcome.changes.len(), 1);
    elapsed
}

async fn change_all_round(setup: &mut Setup) -> Duration {
    let db = setup.store.connection();
    let sql = format!(
        "UPDATE extensions SET display_name = 'All renamed {}', revision = revision + 1 WHERE org_id = {} AND layer = 'draft'",
        setup.round, setup.big.0
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let emergency: BTreeSet<String> = ["112".into(), "911".into()].into();
    let request = ApplyRequest {
        applied_by: "bench",
        job_id: None,
        emergency_numbers: &emergency,
    };
    let started = Instant::now();
    let outcome = setup
        .store
        .prepare_apply(setup.big, &request)
        .await
        .unwrap()
        .commit(vec![])
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcome.changes.len(), BIG_ORG_EXTENSIONS);
    elapsed
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let admin_url = testkit::mariadb_admin_url().expect("MariaDB for the benchmark");
    let other_orgs: usize = std::env::var("LPBX_BENCH_ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let small_db = testkit::TestDb::mariadb().await.unwrap();
    let large_db = testkit::TestDb::mariadb().await.unwrap();
    let mut small = setup(small_db.url(), 10).await;
    let mut large = setup(large_db.url(), other_orgs).await;
    let _ = admin_url;

    // Warm both up, then alternate.
    for _ in 0..3 {
        one_round(&mut small).await;
        one_round(&mut large).await;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(one_round(&mut small).await);
        b.push(one_round(&mut large).await);
    }
    a.sort();
    b.sort();
    let (ma, mb) = (percentile(&a, 0.5), percentile(&b, 0.5));
    let changed = if std::env::var("LPBX_BENCH_CHANGE").is_ok_and(|v| v == "all") {
        "every extension"
    } else {
        "one extension"
    };
    println!("Apply of a {BIG_ORG_EXTENSIONS}-extension org on MariaDB ({changed} changed per Apply), {ROUNDS} rounds each");
    println!(
        "  beside {:>6} orgs: median {:>7.2?}  p95 {:>7.2?}",
        10,
        ma,
        percentile(&a, 0.95)
    );
    println!(
        "  beside {:>6} orgs: median {:>7.2?}  p95 {:>7.2?}",
        other_orgs,
        mb,
        percentile(&b, 0.95)
    );
    println!(
        "  ratio (median, large/small): {:.2}",
        mb.as_secs_f64() / ma.as_secs_f64()
    );
}
