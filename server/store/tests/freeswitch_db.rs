//! Reading sofia's `sip_registrations` from FreeSWITCH's database on MariaDB: one domain and one
//! profile at a time, and only MariaDB/MySQL URLs. The table is made with the columns sofia
//! 1.10.12 creates (the FreeSWITCH tier shows the real one).

use sea_orm::{ConnectionTrait, Database};
use store::freeswitch_db::{FreeSwitchDb, SofiaRegistration};

const SOFIA_TABLE: &str = "CREATE TABLE sip_registrations (call_id VARCHAR(255), \
    sip_user VARCHAR(255), sip_host VARCHAR(255), presence_hosts VARCHAR(255), \
    contact VARCHAR(1024), status VARCHAR(255), ping_status VARCHAR(255), ping_count INTEGER, \
    ping_time BIGINT, force_ping INTEGER, rpid VARCHAR(255), expires BIGINT, \
    ping_expires INTEGER NOT NULL DEFAULT 0, user_agent VARCHAR(255), server_user VARCHAR(255), \
    server_host VARCHAR(255), profile_name VARCHAR(255), hostname VARCHAR(255), \
    network_ip VARCHAR(255), network_port VARCHAR(6), sip_username VARCHAR(255), \
    sip_realm VARCHAR(255), mwi_user VARCHAR(255), mwi_host VARCHAR(255), \
    orig_server_host VARCHAR(255), orig_hostname VARCHAR(255), sub_host VARCHAR(255))";

fn row(call_id: &str, user: &str, host: &str, profile: &str) -> String {
    format!(
        "INSERT INTO sip_registrations (call_id, sip_user, sip_host, contact, status, expires, \
         user_agent, profile_name, hostname, network_ip, network_port) VALUES ('{call_id}', \
         '{user}', '{host}', '<sip:{user}@10.0.0.5:5060>', 'Registered(UDP-NAT)', 1796000000, \
         'Phone {call_id}', '{profile}', 'fs1', '10.0.0.5', '5060')"
    )
}

#[tokio::test]
async fn registrations_of_one_domain_and_profile_only() {
    let Some(db) = testkit::TestDb::mariadb().await else {
        return;
    };
    let admin = Database::connect(db.url()).await.unwrap();
    admin.execute_unprepared(SOFIA_TABLE).await.unwrap();
    for sql in [
        row("a1", "101", "pbx.acme.test", "internal"),
        row("a2", "102", "pbx.acme.test", "internal"),
        row("g1", "101", "pbx.globex.test", "internal"),
        // Same domain on another profile, and a domain that only starts like acme's.
        row("x1", "103", "pbx.acme.test", "external"),
        row("x2", "104", "pbx.acme.test.evil", "internal"),
    ] {
        admin.execute_unprepared(&sql).await.unwrap();
    }
    // sofia leaves columns NULL at times; they read as empty.
    admin
        .execute_unprepared(
            "INSERT INTO sip_registrations (call_id, sip_user, sip_host, profile_name) \
             VALUES ('a3', '105', 'pbx.acme.test', 'internal')",
        )
        .await
        .unwrap();
    let fs = FreeSwitchDb::connect_lazily(db.url()).await.unwrap();
    fs.ping().await.unwrap();
    let acme = fs.registrations("internal", "pbx.acme.test").await.unwrap();
    let ids: Vec<&str> = acme.iter().map(|r| r.call_id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "a3"]);
    assert_eq!(
        acme[0],
        SofiaRegistration {
            sip_user: "101".into(),
            sip_host: "pbx.acme.test".into(),
            call_id: "a1".into(),
            contact: "<sip:101@10.0.0.5:5060>".into(),
            user_agent: "Phone a1".into(),
            status: "Registered(UDP-NAT)".into(),
            expires_at_s: 1_796_000_000,
            network_ip: "10.0.0.5".into(),
            network_port: "5060".into(),
        }
    );
    assert_eq!(acme[2].user_agent, "");
    assert_eq!(acme[2].expires_at_s, 0);
    let globex = fs
        .registrations("internal", "pbx.globex.test")
        .await
        .unwrap();
    assert_eq!(globex.len(), 1);
    assert_eq!(globex[0].call_id, "g1");
    // A quote in the domain is a value, not SQL.
    let none = fs.registrations("internal", "x' OR '1'='1").await.unwrap();
    assert!(none.is_empty());
    admin.close().await.unwrap();
}

#[tokio::test]
async fn only_mariadb_urls_and_an_unreachable_server_is_unavailable() {
    let refused = FreeSwitchDb::connect_lazily("sqlite://x.db?mode=rwc").await;
    assert!(refused.is_err());
    // Nothing listens on port 1: the pool is made, the query says the server is unavailable.
    let fs = FreeSwitchDb::connect_lazily("mysql://reader:pw@127.0.0.1:1/freeswitch")
        .await
        .unwrap();
    let err = fs
        .registrations("internal", "pbx.acme.test")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}
