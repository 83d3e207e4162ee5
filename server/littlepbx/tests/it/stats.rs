//! The stats API over real HTTP: the numbers on every section match the records ingested
//! through `/fs/cdr` (expected values computed here from the calls themselves), another org's
//! admin sees none of them, paging is stable, the live view shows only the org's own phones
//! from an event-socket peer (and says so when FreeSWITCH is down), the provider's totals, and
//! retention.

use std::collections::BTreeMap;

use esl::testpeer::TestPeer;
use serde_json::{json, Value};
use testkit::db_test;

use crate::cdr::{ingest, org, Call, Kind};
use crate::common::{app_with_peer, logged_in, spawn_app_with, OrgClient, ESL_PASSWORD};
use crate::provider_client::{org_key, provider_key, Api};

const PASSWORD: &str = "correct horse battery";
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A month and a half of acme's calls, of every kind, at a few times of day.
fn acme_calls(now: i64) -> Vec<Call> {
    let mut calls = Vec::new();
    let kinds = [
        // (kind, ext, other, did, talk, voicemail)
        (Kind::Internal, "101", "102", None, 125, 0),
        (
            Kind::Inbound,
            "102",
            "+4930555123",
            Some("+15550100100"),
            0,
            22,
        ),
        (
            Kind::Outbound,
            "101",
            "+4989123456",
            Some("+15550100100"),
            95,
            0,
        ),
        (
            Kind::Inbound,
            "101",
            "+4930555999",
            Some("+15550100101"),
            61,
            0,
        ),
        (Kind::Internal, "102", "*97", None, 30, 0),
        (Kind::Outbound, "103", "+4989000000", None, 0, 0),
        (Kind::Internal, "103", "101", None, 0, 0),
        (
            Kind::Inbound,
            "103",
            "+4930555000",
            Some("+15550100101"),
            0,
            0,
        ),
    ];
    let mut n = 0;
    for days_ago in [0, 1, 2, 5, 6, 7, 12, 29, 30, 45] {
        for (i, (kind, ext, other, did, talk, vm)) in kinds.iter().enumerate() {
            n += 1;
            // Spread over the day; today's calls are all in the past, and in today (UTC) even
            // in the first minutes after midnight.
            let step = ((now % DAY) / (kinds.len() as i64 + 1)).clamp(1, 7 * MINUTE);
            let start = if days_ago == 0 {
                now - (i as i64 + 1) * step
            } else {
                now - days_ago * DAY + (i as i64 * 3 - 10) * HOUR
            };
            let mut call = Call::new("acme", &format!("acme-{n:03}"), *kind, start)
                .ext(ext)
                .other(other)
                .talk(*talk)
                .voicemail(*vm);
            call.did = did.map(str::to_owned);
            calls.push(call);
        }
    }
    calls
}

fn globex_calls(now: i64) -> Vec<Call> {
    vec![
        Call::new("globex", "globex-1", Kind::Inbound, now - 5 * MINUTE)
            .ext("201")
            .other("+4930000001")
            .did("+15550200200")
            .talk(600),
        Call::new("globex", "globex-2", Kind::Outbound, now - 6 * MINUTE)
            .ext("201")
            .other("+4930000002")
            .talk(300),
    ]
}

fn billsec_in(c: &Call) -> u64 {
    if c.kind == Kind::Inbound {
        c.billsec() as u64
    } else {
        0
    }
}
fn billsec_out(c: &Call) -> u64 {
    if c.kind == Kind::Outbound {
        c.billsec() as u64
    } else {
        0
    }
}

fn expected_summary(calls: &[&Call]) -> Value {
    let count = |f: &dyn Fn(&Call) -> bool| calls.iter().filter(|c| f(c)).count() as u64;
    let seconds_in: u64 = calls.iter().map(|c| billsec_in(c)).sum();
    let seconds_out: u64 = calls.iter().map(|c| billsec_out(c)).sum();
    json!({
        "calls": calls.len() as u64,
        "answered": count(&|c| c.answered()),
        "missed": count(&|c| c.missed()),
        "not_answered_out": count(&|c| c.kind == Kind::Outbound && !c.answered()),
        "seconds_in": seconds_in,
        "minutes_in": (seconds_in + 30) / 60,
        "seconds_out": seconds_out,
        "minutes_out": (seconds_out + 30) / 60,
    })
}

/// Per extension: (calls, in, out, internal, answered, missed, seconds).
fn expected_extensions(calls: &[&Call]) -> BTreeMap<String, [u64; 7]> {
    let mut rows: BTreeMap<String, [u64; 7]> = BTreeMap::new();
    let mut add = |ext: &str, column: usize, c: &Call, missed: bool| {
        let row = rows.entry(ext.to_owned()).or_default();
        row[0] += 1;
        row[column] += 1;
        row[4] += u64::from(c.answered());
        row[5] += u64::from(missed);
        row[6] += c.billsec() as u64;
    };
    for c in calls {
        match c.kind {
            Kind::Inbound => add(&c.ext, 1, c, c.missed()),
            Kind::Outbound => add(&c.ext, 2, c, false),
            Kind::Internal => {
                add(&c.ext, 3, c, false);
                if !c.other.starts_with('*') {
                    add(&c.other, 3, c, c.missed());
                }
            }
        }
    }
    rows
}

async fn get_ok(client: &OrgClient, path: &str) -> Value {
    let (status, body) = client.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

db_test!(the_numbers_match_the_records, |url: String| async move {
    let app = spawn_app_with(&url, |_| {}).await;
    org(&app, "acme").await;
    org(&app, "globex").await;
    let now = store::now_ms();
    let acme_all = acme_calls(now);
    for call in acme_all.iter().chain(&globex_calls(now)) {
        ingest(&app, call).await;
    }
    let acme = logged_in(&app, "acme", PASSWORD).await;

    for period in ["today", "7d", "30d"] {
        let summary = get_ok(&acme, &format!("/api/org/stats/summary?period={period}")).await;
        let window = &summary["window"];
        assert_eq!(window["period"], period);
        assert_eq!(window["timezone"], "UTC");
        let from = window["from_ms"].as_i64().unwrap();
        let days = match period {
            "today" => 1,
            "7d" => 7,
            _ => 30,
        };
        assert_eq!(from % DAY, 0, "UTC midnight");
        assert_eq!(from, now - now % DAY - (days - 1) * DAY);
        let in_period: Vec<&Call> = acme_all.iter().filter(|c| c.start_ms >= from).collect();
        assert!(!in_period.is_empty());
        assert_eq!(summary["totals"], expected_summary(&in_period), "{period}");
        let inbound: Vec<&Call> = in_period
            .iter()
            .copied()
            .filter(|c| c.kind == Kind::Inbound)
            .collect();
        assert_eq!(summary["inbound"]["calls"], inbound.len() as u64);
        assert_eq!(
            summary["inbound"]["answered"],
            inbound.iter().filter(|c| c.answered()).count() as u64
        );
        // One bucket per day, and they add up.
        let buckets = summary["days"].as_array().unwrap();
        assert_eq!(buckets.len() as i64, days);
        let per_day: u64 = buckets.iter().map(|d| d["calls"].as_u64().unwrap()).sum();
        assert_eq!(per_day, in_period.len() as u64);
        for (i, bucket) in buckets.iter().enumerate() {
            let day_start = from + i as i64 * DAY;
            let expected = in_period
                .iter()
                .filter(|c| c.start_ms >= day_start && c.start_ms < day_start + DAY)
                .count() as u64;
            assert_eq!(bucket["calls"], expected, "{period} day {i}");
        }

        let hours = get_ok(&acme, &format!("/api/org/stats/hours?period={period}")).await;
        let hours = hours["hours"].as_array().unwrap().clone();
        assert_eq!(hours.len(), 24);
        for (h, bucket) in hours.iter().enumerate() {
            let here: Vec<&&Call> = in_period
                .iter()
                .filter(|c| ((c.start_ms % DAY) / HOUR) as usize == h)
                .collect();
            assert_eq!(bucket["hour"], h as u64);
            assert_eq!(bucket["calls"], here.len() as u64, "{period} hour {h}");
            assert_eq!(
                bucket["missed"],
                here.iter().filter(|c| c.missed()).count() as u64
            );
        }

        let exts = get_ok(&acme, &format!("/api/org/stats/extensions?period={period}")).await;
        let got: BTreeMap<String, [u64; 7]> = exts["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = |k: &str| e[k].as_u64().unwrap();
                (
                    e["extension"].as_str().unwrap().to_owned(),
                    [
                        n("calls"),
                        n("calls_in"),
                        n("calls_out"),
                        n("calls_internal"),
                        n("answered"),
                        n("missed"),
                        n("seconds"),
                    ],
                )
            })
            .collect();
        assert_eq!(got, expected_extensions(&in_period), "{period}");
        let order: Vec<u64> = exts["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["calls"].as_u64().unwrap())
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] >= w[1]),
            "busiest first: {order:?}"
        );

        let dids = get_ok(&acme, &format!("/api/org/stats/dids?period={period}")).await;
        for did in ["+15550100100", "+15550100101"] {
            let row = dids["dids"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["did"] == did);
            let calls_in: Vec<&&Call> = in_period
                .iter()
                .filter(|c| c.kind == Kind::Inbound && c.did.as_deref() == Some(did))
                .collect();
            let calls_out: Vec<&&Call> = in_period
                .iter()
                .filter(|c| c.kind == Kind::Outbound && c.did.as_deref() == Some(did))
                .collect();
            let Some(row) = row else {
                assert!(calls_in.is_empty() && calls_out.is_empty());
                continue;
            };
            assert_eq!(row["calls_in"], calls_in.len() as u64, "{period} {did}");
            assert_eq!(
                row["answered_in"],
                calls_in.iter().filter(|c| c.answered()).count() as u64
            );
            assert_eq!(
                row["missed_in"],
                calls_in.iter().filter(|c| c.missed()).count() as u64
            );
            assert_eq!(
                row["seconds_in"],
                calls_in.iter().map(|c| c.billsec() as u64).sum::<u64>()
            );
            assert_eq!(row["calls_out"], calls_out.len() as u64);
            assert_eq!(
                row["seconds_out"],
                calls_out.iter().map(|c| c.billsec() as u64).sum::<u64>()
            );
        }
        assert!(
            !dids.to_string().contains("+15550200200"),
            "globex's number is not acme's"
        );
    }

    // Another time zone: India is UTC+05:30 all year, so local hours are shifted by 5.5 h.
    let summary = get_ok(&acme, "/api/org/stats/hours?period=30d&tz=Asia/Kolkata").await;
    let from = summary["window"]["from_ms"].as_i64().unwrap();
    assert_eq!((from + 330 * MINUTE) % DAY, 0, "local midnight in Kolkata");
    assert_eq!(summary["window"]["timezone"], "Asia/Kolkata");
    for (h, bucket) in summary["hours"].as_array().unwrap().iter().enumerate() {
        let expected = acme_all
            .iter()
            .filter(|c| c.start_ms >= from)
            .filter(|c| (((c.start_ms + 330 * MINUTE) % DAY) / HOUR) as usize == h)
            .count() as u64;
        assert_eq!(bucket["calls"], expected, "Kolkata hour {h}");
    }
    let (status, body) = acme
        .get_json("/api/org/stats/summary?period=7d&tz=Nowhere/Atlantis")
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "tz");
    let (status, _) = acme.get_json("/api/org/stats/summary?period=year").await;
    assert_eq!(status, 400);
});

db_test!(another_org_sees_nothing_of_it, |url: String| async move {
    let app = spawn_app_with(&url, |_| {}).await;
    org(&app, "acme").await;
    org(&app, "globex").await;
    let now = store::now_ms();
    for call in acme_calls(now).iter().chain(&globex_calls(now)) {
        ingest(&app, call).await;
    }
    let acme = logged_in(&app, "acme", PASSWORD).await;
    let globex = logged_in(&app, "globex", PASSWORD).await;

    let summary = get_ok(&globex, "/api/org/stats/summary?period=30d").await;
    assert_eq!(summary["totals"]["calls"], 2, "only globex's own calls");
    let calls = get_ok(&globex, "/api/org/stats/calls?limit=100").await;
    let uuids: Vec<&str> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["other_party"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, ["+4930000001", "+4930000002"]);
    let exts = get_ok(&globex, "/api/org/stats/extensions?period=30d").await;
    assert_eq!(exts["extensions"].as_array().unwrap().len(), 1);

    // Acme's session on globex's address opens nothing, nor does no session at all.
    let mut stolen = app.org_client("globex");
    stolen.cookie = acme.cookie.clone();
    let anonymous = app.org_client("acme");
    for path in [
        "/api/org/stats/summary",
        "/api/org/stats/hours",
        "/api/org/stats/extensions",
        "/api/org/stats/dids",
        "/api/org/stats/calls",
        "/api/org/stats/live",
    ] {
        let (status, body) = stolen.get_json(path).await;
        assert_eq!(status, 401, "{path}: {body}");
        let (status, _) = anonymous.get_json(path).await;
        assert_eq!(status, 401, "{path}");
    }
    // An org that does not exist: 404.
    let (status, _) = app
        .org_client("nope")
        .get_json("/api/org/stats/summary")
        .await;
    assert_eq!(status, 404);
});

db_test!(
    recent_calls_page_newest_first_and_stably,
    |url: String| async move {
        let app = spawn_app_with(&url, |_| {}).await;
        org(&app, "acme").await;
        let now = store::now_ms();
        // 23 calls, some starting in the same millisecond.
        let calls: Vec<Call> = (0..23)
            .map(|i| {
                Call::new(
                    "acme",
                    &format!("page-{i:02}"),
                    Kind::Outbound,
                    now - HOUR + (i / 2) * MINUTE,
                )
                .other(&format!("+49891234{i:02}"))
                .talk(i)
            })
            .collect();
        for call in &calls {
            ingest(&app, call).await;
        }
        let acme = logged_in(&app, "acme", PASSWORD).await;
        let mut seen: Vec<Value> = Vec::new();
        let mut path = "/api/org/stats/calls?limit=5".to_owned();
        loop {
            let page = get_ok(&acme, &path).await;
            seen.extend(page["calls"].as_array().unwrap().iter().cloned());
            // A new call between pages does not shift them.
            let late = Call::new(
                "acme",
                &format!("late-{}", seen.len()),
                Kind::Inbound,
                store::now_ms(),
            )
            .did("+15550100100")
            .other("+4930");
            ingest(&app, &late).await;
            match page["next_before"].as_str() {
                Some(cursor) => path = format!("/api/org/stats/calls?limit=5&before={cursor}"),
                None => break,
            }
        }
        let numbers: Vec<&str> = seen
            .iter()
            .map(|c| c["other_party"].as_str().unwrap())
            .collect();
        let mut expected: Vec<&Call> = calls.iter().collect();
        expected.sort_by(|a, b| b.start_ms.cmp(&a.start_ms).then(b.uuid.cmp(&a.uuid)));
        let expected: Vec<&str> = expected.iter().map(|c| c.other.as_str()).collect();
        assert_eq!(numbers, expected, "every call once, newest first");
        let first = &seen[0];
        assert_eq!(first["direction"], "out");
        assert_eq!(first["answered"], true);
        assert_eq!(first["missed"], false);
        assert_eq!(first["extension"], "101");
        assert_eq!(first["hangup_cause"], "NORMAL_CLEARING");

        for bad in ["limit=0", "limit=101", "before=yesterday", "before=1.x"] {
            let (status, body) = acme.get_json(&format!("/api/org/stats/calls?{bad}")).await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
    }
);

fn registration(user: &str, host: &str, call_id: &str, agent: &str, ip: &str) -> String {
    format!(
        "    <registration>\n        <call-id>{call_id}</call-id>\n        <user>{user}@{host}</user>\n        \
         <contact>&quot;{user}&quot; &lt;sip:{user}@{ip}:5060;transport=udp&gt;</contact>\n        <agent>{agent}</agent>\n        \
         <status>Registered(UDP)(unknown) exp(2026-12-01 13:00:00) expsecs(3542)</status>\n        <ping-status>Reachable</ping-status>\n        \
         <host>fs1</host>\n        <network-ip>{ip}</network-ip>\n        <network-port>5060</network-port>\n        \
         <sip-auth-user>{user}</sip-auth-user>\n        <sip-auth-realm>{host}</sip-auth-realm>\n        \
         <mwi-account>{user}@{host}</mwi-account>\n    </registration>\n"
    )
}

db_test!(
    the_live_view_shows_only_the_orgs_own_phones,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        // As if FreeSWITCH had ignored the domain filter: globex's phone is in acme's answer.
        let xml = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<profile>\n  <registrations>\n{}{}{}  </registrations>\n</profile>\n",
        registration("101", "pbx.acme.localhost", "a1@10.0.0.5", "Yealink SIP-T46S 66.86.0.15", "10.0.0.5"),
        registration("101", "pbx.acme.localhost", "a2@10.0.0.6", "Linphone/5.2 (belle-sip/5.2) &amp; co", "10.0.0.6"),
        registration("201", "pbx.globex.localhost", "g1@10.9.9.9", "Globex Phone 1.0", "10.9.9.9"),
    );
        peer.respond(
            "sofia xmlstatus profile internal user @pbx.acme.localhost",
            &xml,
        );
        peer.respond(
        "sofia xmlstatus profile internal user @pbx.globex.localhost",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<profile>\n  <registrations>\n  </registrations>\n</profile>\n",
    );
        peer.respond("limit_usage hash lpbx_calls acme", "3");
        peer.respond("limit_usage hash lpbx_calls globex", "0");
        let app = app_with_peer(&url, &peer).await;
        org(&app, "acme").await;
        org(&app, "globex").await;
        let acme = logged_in(&app, "acme", PASSWORD).await;
        let globex = logged_in(&app, "globex", PASSWORD).await;

        let started = store::now_ms();
        let live = {
            // The event socket connects in the background.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let live = get_ok(&acme, "/api/org/stats/live").await;
                if live["source"]["state"] == "ok" || std::time::Instant::now() > deadline {
                    break live;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        assert_eq!(live["source"]["state"], "ok", "{live}");
        assert_eq!(live["calls_in_progress"], 3);
        assert_eq!(live["registered_phones"], 2);
        assert!(
            !live.to_string().contains("Globex Phone") && !live.to_string().contains("10.9.9.9"),
            "{live}"
        );
        let exts = live["extensions"].as_array().unwrap();
        // The default configuration's reception extension is listed even without phones.
        let ext = |n: &str| exts.iter().find(|e| e["number"] == n);
        let e101 = ext("101").expect("101 has phones");
        let phones = e101["phones"].as_array().unwrap();
        assert_eq!(phones.len(), 2);
        let agents: Vec<&str> = phones
            .iter()
            .map(|p| p["user_agent"].as_str().unwrap())
            .collect();
        assert!(
            agents.contains(&"Yealink SIP-T46S 66.86.0.15"),
            "{agents:?}"
        );
        assert!(
            agents.contains(&"Linphone/5.2 (belle-sip/5.2) & co"),
            "{agents:?}"
        );
        for phone in phones {
            assert_eq!(phone["transport"], "udp");
            assert_eq!(phone["expires_in_s"], 3542);
            let since = phone["since_ms"].as_i64().unwrap();
            assert!(
                since >= started - 1000 && since <= store::now_ms(),
                "{phone}"
            );
        }
        assert!(ext("201").is_none());
        // Seen again later: "since" stays.
        let again = get_ok(&acme, "/api/org/stats/live").await;
        assert_eq!(
            again["extensions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["number"] == "101")
                .unwrap()["phones"][0]["since_ms"],
            phones[0]["since_ms"]
        );

        let other = get_ok(&globex, "/api/org/stats/live").await;
        assert_eq!(other["registered_phones"], 0);
        assert_eq!(other["calls_in_progress"], 0);

        // FreeSWITCH goes away: still 200, and it says so.
        peer.set_refuse_connections(true);
        peer.drop_connections();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let down = loop {
            let live = get_ok(&acme, "/api/org/stats/live").await;
            if live["source"]["state"] == "unreachable" || std::time::Instant::now() > deadline {
                break live;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(down["source"]["state"], "unreachable", "{down}");
        assert!(down["source"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"));
        assert_eq!(down["calls_in_progress"], Value::Null);
        assert_eq!(down["registered_phones"], 0);
    }
);

db_test!(
    live_view_without_an_event_socket_says_so,
    |url: String| async move {
        let app = spawn_app_with(&url, |_| {}).await;
        org(&app, "acme").await;
        let acme = logged_in(&app, "acme", PASSWORD).await;
        let live = get_ok(&acme, "/api/org/stats/live").await;
        assert_eq!(live["source"]["state"], "not_configured");
        assert_eq!(live["calls_in_progress"], Value::Null);
        assert!(
            !live["extensions"].as_array().unwrap().is_empty(),
            "extensions are still listed"
        );
    }
);

db_test!(
    the_provider_gets_totals_per_period,
    |url: String| async move {
        let app = spawn_app_with(&url, |_| {}).await;
        org(&app, "acme").await;
        org(&app, "globex").await;
        let now = store::now_ms();
        let calls = acme_calls(now);
        for call in calls.iter().chain(&globex_calls(now)) {
            ingest(&app, call).await;
        }
        let api = Api::new(&app, Some(&provider_key(&app).await));
        let from = now - now % DAY - 10 * DAY;
        let to = now - now % DAY - DAY;
        let iso = |ms: i64| {
            let days = ms / DAY;
            // Civil date from days since the epoch (Howard Hinnant's algorithm).
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let d = doy - (153 * mp + 2) / 5 + 1;
            let m = if mp < 10 { mp + 3 } else { mp - 9 };
            let y = yoe + era * 400 + i64::from(m <= 2);
            format!("{y:04}-{m:02}-{d:02}")
        };
        let answer = api
            .get(&format!(
                "/orgs/acme/stats?from={}&to={}",
                iso(from),
                iso(to)
            ))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let body = &answer.json;
        assert_eq!(body["from_ms"], from);
        assert_eq!(body["to_ms"], to);
        assert!(
            body["from"].as_str().unwrap().ends_with("T00:00:00Z"),
            "{body}"
        );
        let in_range: Vec<&Call> = calls
            .iter()
            .filter(|c| c.start_ms >= from && c.start_ms < to)
            .collect();
        let sum = |kind: Kind| -> u64 {
            in_range
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| c.billsec() as u64)
                .sum()
        };
        let count = |kind: Kind| in_range.iter().filter(|c| c.kind == kind).count() as u64;
        assert_eq!(body["calls"], in_range.len() as u64);
        assert_eq!(
            body["answered"],
            in_range.iter().filter(|c| c.answered()).count() as u64
        );
        assert_eq!(
            body["missed"],
            in_range.iter().filter(|c| c.missed()).count() as u64
        );
        assert_eq!(body["calls_in"], count(Kind::Inbound));
        assert_eq!(body["calls_out"], count(Kind::Outbound));
        assert_eq!(body["calls_internal"], count(Kind::Internal));
        assert_eq!(body["billsec_in"], sum(Kind::Inbound));
        assert_eq!(body["billsec_out"], sum(Kind::Outbound));
        assert_eq!(body["billsec_internal"], sum(Kind::Internal));
        assert_eq!(body["minutes_in"], sum(Kind::Inbound).div_ceil(60));
        assert_eq!(body["minutes_out"], sum(Kind::Outbound).div_ceil(60));

        // RFC 3339 instants work too; the whole history of globex is its two calls.
        let answer = api
            .get("/orgs/globex/stats?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00%2B01:00")
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json["calls"], 2);
        assert_eq!(answer.json["billsec_in"], 600);

        // A key of globex's sees globex, and acme not at all.
        let globex_only = api.with_key(&org_key(&app, "globex").await);
        assert_eq!(
            globex_only
                .get("/orgs/globex/stats?from=2000-01-01&to=2100-01-01")
                .await
                .status,
            200
        );
        globex_only
            .get("/orgs/acme/stats?from=2000-01-01&to=2100-01-01")
            .await
            .problem(404);
        assert_eq!(
            api.get("/orgs/acme/stats?from=2026-02-30&to=2026-03-01")
                .await
                .invalid_fields(),
            ["from"]
        );
        assert_eq!(
            api.get("/orgs/acme/stats?from=2026-03-01&to=2026-03-01")
                .await
                .invalid_fields(),
            ["to"]
        );
        api.get("/orgs/acme/stats?from=2026-03-01")
            .await
            .problem(400);
        api.get("/orgs/nope/stats?from=2026-03-01&to=2026-04-01")
            .await
            .problem(404);
        let anonymous = Api::new(&app, None);
        anonymous
            .get("/orgs/acme/stats?from=2026-03-01&to=2026-04-01")
            .await
            .problem(401);
        // Documented in the OpenAPI document.
        let doc = api.get("/openapi.json").await.json;
        assert!(doc["paths"]["/api/v1/orgs/{slug}/stats"]["get"].is_object());
    }
);

db_test!(old_records_are_pruned, |url: String| async move {
    let app = spawn_app_with(&url, |config| config.cdr_retention_days = 30).await;
    let acme_id = org(&app, "acme").await;
    let now = store::now_ms();
    let old: Vec<Call> = (0..5)
        .map(|i| {
            Call::new(
                "acme",
                &format!("old-{i}"),
                Kind::Internal,
                now - 31 * DAY - i * HOUR,
            )
            .talk(5)
        })
        .collect();
    let recent = Call::new("acme", "recent-1", Kind::Internal, now - 29 * DAY).talk(5);
    for call in old.iter().chain([&recent]) {
        ingest(&app, call).await;
    }
    let mut orphan = Call::new("acme", "old-orphan", Kind::Internal, now - 40 * DAY);
    orphan.marker = None;
    crate::cdr::post_record(
        &app,
        "old-orphan",
        &orphan.record(),
        crate::cdr::Encoding::Raw,
    )
    .await;
    // The orphan was received now: it stays until 30 days after its arrival.
    let deleted = calls::cdr::prune_once(&app.state, now).await.unwrap();
    assert_eq!(deleted, 5);
    let left = app
        .state
        .store()
        .recent_cdrs(acme_id, None, 100)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].cdr.call_uuid, "recent-1");
    assert_eq!(app.state.store().orphan_cdrs(10).await.unwrap().len(), 1);
    let later = calls::cdr::prune_once(&app.state, now + 31 * DAY)
        .await
        .unwrap();
    assert_eq!(later, 2, "the recent call and the orphan, a month on");
});
