//! The stats queries at scale, on MariaDB: 10 million call records over 10,000 orgs (one large
//! org with a tenth of them, the rest spread evenly), spread over the last 365 days in arrival
//! order, then every query of the stats page and the provider's totals measured for the large
//! org and for a small one.
//!
//! `cargo bench -p store --bench stats` (uses `LITTLEPBX_TEST_MYSQL_URL` or starts a private
//! MariaDB). `LPBX_BENCH_ROWS=1000000` shrinks it for a quick run (`LPBX_BENCH_ORGS` sets the
//! number of orgs, `LPBX_BENCH_RUNS` the runs per query, `LPBX_BENCH_BUFFER_POOL_MB` InnoDB's
//! buffer pool; 0 leaves the server's own; `LPBX_BENCH_KEEP=1` keeps the database).
//!
//! The records are bulk-loaded with multi-row INSERTs and their running totals rebuilt from
//! them once (`Store::rebuild_cdr_rollups`); then one insert per call through `insert_cdr` (the
//! record and its share of the totals, as `/fs/cdr` stores it) is timed too. Call UUIDs are
//! sequential here so that seeding is not dominated by random inserts into the unique index;
//! the queries measured never read that index.

use std::time::{Duration, Instant};

use domain::*;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use store::cdr::{CdrDirection, NewCdr};
use store::orgs::{NewOrg, OrgLimits};
use store::{OrgId, Store};

const DAY_MS: i64 = 86_400_000;
const DAYS: i64 = 365;
const ROWS_PER_INSERT: usize = 4000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: fast, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

async fn create_org(store: &Store, slug: &str) -> OrgId {
    let domain = SipDomain::parse(&format!("pbx.{slug}.bench")).unwrap();
    let new = NewOrg {
        slug: OrgSlug::parse(slug).unwrap(),
        name: CompanyName::parse(slug).unwrap(),
        sip_domain: domain.clone(),
        limits: OrgLimits::default(),
    };
    let secrets = testkit::fixtures::reception_secrets(&domain, "pw");
    store.create_org(&new, secrets).await.unwrap().id
}

async fn exec(db: &DatabaseConnection, sql: String) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

/// The other orgs, as bare rows (their configuration plays no part in the stats queries).
async fn bulk_orgs(db: &DatabaseConnection, count: usize) -> Vec<OrgId> {
    let mut rows = Vec::new();
    for i in 0..count {
        rows.push(format!(
            "('small{i}', 'Small {i}', 'pbx.small{i}.bench', 'active', 0, 0, 0, 1000, 10, 2, 0, 0)"
        ));
        if rows.len() == 1000 || i + 1 == count {
            exec(
                db,
                format!(
                    "INSERT INTO organizations (slug, name, sip_domain, status, applied_version, \
                     draft_revision, xml_version, max_extensions, max_outbound_calls, \
                     max_calls_per_second, created_at, updated_at) VALUES {}",
                    rows.join(",")
                ),
            )
            .await;
            rows.clear();
        }
    }
    let result = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM organizations WHERE slug LIKE 'small%' ORDER BY id",
        ))
        .await
        .unwrap();
    result
        .iter()
        .map(|r| OrgId(r.try_get_by_index::<i64>(0).unwrap()))
        .collect()
}

struct Profile {
    extensions: u64,
    dids: u64,
}

/// One call of `org` starting at `start`: 45 % inbound, 35 % outbound, 20 % internal;
/// three in four answered.
fn row(rng: &mut Rng, seq: u64, org: OrgId, profile: &Profile, start: i64) -> String {
    let direction = match rng.below(100) {
        0..45 => 1,
        45..80 => 2,
        _ => 3,
    };
    let answered = rng.chance(75);
    let ring = 3 + rng.below(20) as i64;
    let billsec = if answered { 5 + rng.below(600) } else { 0 };
    let answer = if answered {
        (start + ring * 1000).to_string()
    } else {
        "NULL".into()
    };
    let end = start + ring * 1000 + billsec as i64 * 1000;
    let ext = 101 + rng.below(profile.extensions);
    let did = format!("'+1555{:07}'", org.0 * 100 + rng.below(profile.dids) as i64);
    let (did, other) = match direction {
        1 => (did, format!("'+4930{:07}'", rng.below(10_000_000))),
        2 => (
            if rng.chance(80) { did } else { "NULL".into() },
            format!("'+4930{:07}'", rng.below(10_000_000)),
        ),
        _ => (
            "NULL".into(),
            format!("'{}'", 101 + rng.below(profile.extensions)),
        ),
    };
    let cause = if answered {
        "NORMAL_CLEARING"
    } else {
        "NO_ANSWER"
    };
    format!(
        "({}, {start}, 'bench-{seq:016x}', {answer}, {end}, {}, {billsec}, {direction}, {}, '{ext}', {did}, {other}, '{cause}')",
        org.0,
        (end - start) / 1000,
        u8::from(answered),
    )
}

/// Seeds `total` records: a tenth for `big`, the rest over `small`, in arrival (time) order.
async fn seed(db: &DatabaseConnection, big: OrgId, small: &[OrgId], total: u64, now: i64) {
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let big_per_day = total / 10 / DAYS as u64;
    let small_per_day = (total - total / 10) / DAYS as u64;
    let big_profile = Profile {
        extensions: 200,
        dids: 20,
    };
    let small_profile = Profile {
        extensions: 10,
        dids: 2,
    };
    let first_day = now - DAYS * DAY_MS;
    let mut seq = 0u64;
    let mut inserted = 0u64;
    for day in 0..DAYS {
        let day_start = first_day + day * DAY_MS;
        let mut calls: Vec<(i64, OrgId, bool)> = Vec::new();
        for _ in 0..big_per_day {
            calls.push((day_start + rng.below(DAY_MS as u64) as i64, big, true));
        }
        for _ in 0..small_per_day {
            let org = small[rng.below(small.len() as u64) as usize];
            calls.push((day_start + rng.below(DAY_MS as u64) as i64, org, false));
        }
        calls.sort_by_key(|c| c.0);
        for chunk in calls.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = chunk
                .iter()
                .filter(|(start, _, _)| *start < now)
                .map(|(start, org, is_big)| {
                    seq += 1;
                    let profile = if *is_big {
                        &big_profile
                    } else {
                        &small_profile
                    };
                    row(&mut rng, seq, *org, profile, *start)
                })
                .collect();
            if values.is_empty() {
                continue;
            }
            inserted += values.len() as u64;
            exec(
                db,
                format!(
                    "INSERT INTO cdrs (org_id, start_ms, call_uuid, answer_ms, end_ms, duration_s, billsec, \
                     direction, answered, extension, did, other_party, hangup_cause) VALUES {}",
                    values.join(",")
                ),
            )
            .await;
        }
        if day % 30 == 29 {
            eprintln!(
                "  day {:>3}/{DAYS}: {inserted} rows in {:.0?}",
                day + 1,
                started.elapsed()
            );
        }
    }
    eprintln!(
        "seeded {inserted} records ({big_per_day}/day for the large org) in {:.1?}",
        started.elapsed()
    );
}

async fn count(db: &DatabaseConnection, org: OrgId) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) FROM cdrs WHERE org_id = {}", org.0),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<i64>(0)
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Report {
    lines: Vec<String>,
    worst_p95: Duration,
}

async fn measure<F, Fut>(report: &mut Report, runs: usize, name: &str, mut query: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let first = Instant::now();
    let rows = query().await;
    let first = first.elapsed();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        query().await;
        times.push(started.elapsed());
    }
    times.sort();
    let (median, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    report.worst_p95 = report.worst_p95.max(p95);
    let line = format!(
        "  {name:<34} rows {rows:>5}   first {:>8.2?}   median {:>8.2?}   p95 {:>8.2?}",
        first, median, p95
    );
    println!("{line}");
    report.lines.push(line);
}

async fn measure_org(store: &Store, org: OrgId, label: &str, now: i64, runs: usize) -> Report {
    let mut report = Report {
        lines: Vec::new(),
        worst_p95: Duration::ZERO,
    };
    println!("{label}");
    let today = now - now.rem_euclid(DAY_MS);
    for (name, from) in [
        ("today", today),
        ("7d", today - 6 * DAY_MS),
        ("30d", today - 29 * DAY_MS),
    ] {
        measure(
            &mut report,
            runs,
            &format!("{name} summary+hours (slots)"),
            || async { store.cdr_slots(org, from, now).await.unwrap().len() },
        )
        .await;
        measure(
            &mut report,
            runs,
            &format!("{name} per extension"),
            || async { store.cdr_by_extension(org, from, now).await.unwrap().len() },
        )
        .await;
        measure(&mut report, runs, &format!("{name} per DID"), || async {
            store.cdr_by_did(org, from, now).await.unwrap().len()
        })
        .await;
    }
    measure(
        &mut report,
        runs,
        "recent calls, first page (25)",
        || async { store.recent_cdrs(org, None, 25).await.unwrap().len() },
    )
    .await;
    let deep = store.recent_cdrs(org, None, 500).await.unwrap();
    let cursor = deep.last().map(|r| (r.cdr.start_ms, r.id));
    measure(
        &mut report,
        runs,
        "recent calls, page after 500",
        || async { store.recent_cdrs(org, cursor, 25).await.unwrap().len() },
    )
    .await;
    measure(&mut report, runs, "provider totals, 30 days", || async {
        store.cdr_totals(org, now - 30 * DAY_MS, now).await.unwrap();
        1
    })
    .await;
    report
}

#[tokio::main]
async fn main() {
    let total: u64 = env_or("LPBX_BENCH_ROWS", 10_000_000);
    let orgs: usize = env_or("LPBX_BENCH_ORGS", 10_000);
    let runs: usize = env_or("LPBX_BENCH_RUNS", 30);
    let pool_mb: u64 = env_or("LPBX_BENCH_BUFFER_POOL_MB", 1024);
    // LPBX_BENCH_REUSE=<database URL> measures a database seeded by an earlier run (kept with
    // LPBX_BENCH_KEEP) instead of seeding a new one.
    let reuse = std::env::var("LPBX_BENCH_REUSE").ok();
    let db = match reuse {
        Some(_) => None,
        None => Some(
            testkit::TestDb::mariadb()
                .await
                .expect("MariaDB for the benchmark"),
        ),
    };
    let url = reuse.unwrap_or_else(|| db.as_ref().map(|d| d.url().to_owned()).unwrap_or_default());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // One connection for seeding, with the checks a bulk load may skip.
    let mut options = ConnectOptions::new(url.clone());
    options.max_connections(1).sqlx_logging(false);
    let seeder = Database::connect(options).await.unwrap();
    if pool_mb > 0 {
        exec(
            &seeder,
            format!(
                "SET GLOBAL innodb_buffer_pool_size = {}",
                pool_mb * 1024 * 1024
            ),
        )
        .await;
    }
    exec(
        &seeder,
        "SET SESSION unique_checks = 0, foreign_key_checks = 0".into(),
    )
    .await;

    let now = store::now_ms();
    let (big, probe) = match store.org_by_slug("big").await.unwrap() {
        Some(big) => {
            let probe = store.org_by_slug("probe").await.unwrap().unwrap();
            eprintln!("reusing the records of {url}");
            (big.id, probe.id)
        }
        None => {
            let big = create_org(&store, "big").await;
            let probe = create_org(&store, "probe").await;
            let mut small = bulk_orgs(&seeder, orgs.saturating_sub(2)).await;
            small.push(probe);
            seed(&seeder, big, &small, total, now).await;
            (big, probe)
        }
    };

    // The records were bulk-loaded; their running totals are computed from them in one go
    // (the same totals the stores' inserts keep: tested in tests/cdr.rs).
    let started = Instant::now();
    store.rebuild_cdr_rollups(None).await.unwrap();
    eprintln!("running totals rebuilt in {:.1?}", started.elapsed());
    for table in ["cdrs", "cdr_slots", "cdr_ext_days", "cdr_did_days"] {
        exec(&seeder, format!("ANALYZE TABLE {table}")).await;
    }

    let version = seeder
        .query_one_raw(Statement::from_string(
            seeder.get_database_backend(),
            "SELECT VERSION(), CAST(@@innodb_buffer_pool_size AS SIGNED)",
        ))
        .await
        .unwrap()
        .unwrap();
    println!(
        "MariaDB {}, buffer pool {} MiB; {} records over {} orgs; {runs} runs per query after one first run",
        version.try_get_by_index::<String>(0).unwrap(),
        version.try_get_by_index::<i64>(1).unwrap() / 1024 / 1024,
        total,
        orgs
    );
    let big_rows = count(&seeder, big).await;
    let small_rows = count(&seeder, probe).await;
    let large = measure_org(
        &store,
        big,
        &format!("large org ({big_rows} records)"),
        now,
        runs,
    )
    .await;
    let small_report = measure_org(
        &store,
        probe,
        &format!("small org ({small_rows} records)"),
        now,
        runs,
    )
    .await;
    // One call stored as FreeSWITCH's records arrive: the record and its running totals.
    let mut rng = Rng(7);
    let profile = Profile {
        extensions: 200,
        dids: 20,
    };
    let mut times = Vec::new();
    for i in 0..200u64 {
        let start = store::now_ms() - 1000;
        let direction =
            [CdrDirection::In, CdrDirection::Out, CdrDirection::Internal][(i % 3) as usize];
        let cdr = NewCdr {
            call_uuid: format!("insert-{i}"),
            start_ms: start,
            answer_ms: Some(start + 500),
            end_ms: start + 900,
            duration_s: 1,
            billsec: 1,
            direction,
            answered: true,
            extension: Some(format!("{}", 101 + rng.below(profile.extensions))),
            did: (direction != CdrDirection::Internal).then(|| "+15550000100".to_owned()),
            other_party: Some(format!("{}", 101 + rng.below(profile.extensions))),
            hangup_cause: "NORMAL_CLEARING".into(),
        };
        let started = Instant::now();
        store.insert_cdr(big, &cdr).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "insert of one call with its running totals (large org, 200 inserts): median {:.2?}  p95 {:.2?}",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );

    if std::env::var("LPBX_BENCH_KEEP").is_ok() {
        println!("database kept: {url}");
        std::mem::forget(db);
    }
    let worst = large.worst_p95.max(small_report.worst_p95);
    println!(
        "worst p95 {:.2?}: {}",
        worst,
        if worst < Duration::from_millis(200) {
            "every query under 200 ms"
        } else {
            "OVER the 200 ms target"
        }
    );
}
