//! parse + answer on the hot path: a REGISTER's `sip_auth` lookup and a call's dialplan lookup
//! for an org of 100 extensions, in a lookup holding 10,000 orgs.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use domain::trunk::{Cidr, SipHost, SipUser, Transport, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{
    CompanyName, DidRoute, Extension, ExtensionNumber, OrgConfig, OrgOptions, OrgSlug, OrgStatus,
    SipDomain, VoicemailPin, E164,
};
use freeswitch::{
    answer, AllowAll, MemoryLookup, OrgInput, OrgView, ProviderLimits, Request, Settings,
    TrunkInput,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines().skip_while(|l| !l.starts_with("# raw body:"));
    lines.nth(1).unwrap_or_default().to_owned()
}

fn extension(number: u32, domain: &SipDomain) -> Option<Extension> {
    let password = if number == 1001 { "secret" } else { "pw" };
    Some(Extension {
        voicemail_pin: VoicemailPin::parse("1234").ok()?,
        ..testkit::fixtures::extension(&number.to_string(), domain.as_str(), password)
    })
}

fn org(index: u32, extensions: u32) -> Option<OrgView> {
    let (slug, domain) = if index == 0 {
        ("acme".to_owned(), "acme.test".to_owned())
    } else {
        (format!("org{index}"), format!("org{index}.test"))
    };
    let domain = SipDomain::parse(&domain).ok()?;
    let did = E164::parse(&format!("+1555{index:07}")).ok()?;
    let settings = TrunkSettings {
        username: SipUser::parse("acct").ok()?,
        auth_username: None,
        host: SipHost::parse("sip.carrier.example").ok()?,
        proxy: None,
        port: 5060,
        transport: Transport::Udp,
        register: true,
        realm: None,
        from_user: None,
        from_domain: None,
        caller_id_in_from: false,
        expire_seconds: 3600,
        allowed_cidrs: vec![Cidr::parse("203.0.113.0/24").ok()?],
    };
    Some(OrgView::new(OrgInput {
        slug: OrgSlug::parse(&slug).ok()?,
        company: CompanyName::parse("Company").ok()?,
        status: OrgStatus::Active,
        limits: ProviderLimits {
            max_outbound_calls: 10,
            calls_per_second: 2,
        },
        config: OrgConfig {
            extensions: (1001..1001 + extensions)
                .filter_map(|n| extension(n, &domain))
                .collect(),
            did_routes: vec![DidRoute {
                did: did.clone(),
                extension: ExtensionNumber::parse("1001").ok(),
            }],
            options: OrgOptions::default(),
        },
        domain,
        dids: vec![did],
        trunks: vec![TrunkInput {
            role: TrunkRole::Inbound,
            config: TrunkConfig::Own(settings),
            password: Some("secret".into()),
        }],
        moh_dir: None,
    }))
}

fn bench(c: &mut Criterion) {
    let views: Vec<OrgView> = (0..10_000)
        .filter_map(|i| org(i, if i == 0 { 100 } else { 2 }))
        .collect();
    let Ok(lookup) = MemoryLookup::new(views) else {
        return;
    };
    let settings = Settings::default();
    let sip_auth = fixture("10_directory_register_sip_auth.txt");
    let dialplan = fixture("21_dialplan_call_1001_to_1002.txt")
        .replace("Hunt-Context=acme.test", "Hunt-Context=org_acme");
    c.bench_function("parse_only/dialplan", |b| {
        b.iter(|| {
            Request::parse(black_box(dialplan.as_bytes())).map(|r| r.hunt_context().map(str::len))
        })
    });
    for (name, body) in [("sip_auth", sip_auth), ("dialplan", dialplan)] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let req = Request::parse(black_box(body.as_bytes()));
                req.map(|r| answer(&r, &lookup, &settings, &AllowAll).xml.len())
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
