//! Property tests: orgs built from arbitrary tenant strings that pass the domain parsers (plus
//! arbitrary carrier passwords and company names), asked every kind of request with hostile
//! values in the fields the caller controls. Every answer must parse, use only the elements and
//! attributes we write, carry no `${` we did not write and no `$${` at all, and no line that
//! FreeSWITCH's preprocessor would act on. Random bytes must never panic.

use domain::trunk::{TrunkConfig, TrunkRole};
use domain::{CompanyName, DisplayName, Email, OrgSlug, SipDomain};
use freeswitch::{answer, AllowAll, MemoryLookup, OrgInput, OrgView, Request, TrunkInput};
use proptest::prelude::*;

use crate::common::*;

/// Allowed attributes per element: nothing else may ever appear.
const SCHEMA: &[(&str, &[&str])] = &[
    ("document", &["type"]),
    ("section", &["name"]),
    ("result", &["status"]),
    ("domain", &["name"]),
    ("params", &[]),
    ("param", &["name", "value"]),
    ("variables", &[]),
    ("variable", &["name", "value", "direction"]),
    ("groups", &[]),
    ("group", &["name"]),
    ("users", &[]),
    ("user", &["id", "cidr"]),
    ("gateways", &[]),
    ("gateway", &["name"]),
    ("context", &["name"]),
    ("extension", &["name"]),
    ("condition", &[]),
    ("action", &["application", "data"]),
    ("configuration", &["name", "description"]),
    ("directory", &["name", "path"]),
];

/// Applications a dialplan or chatplan answer may use; `system`, `lua`, `bind_*` never.
const APPS: &[&str] = &[
    "unset",
    "export",
    "limit",
    "set",
    "bridge",
    "transfer",
    "hangup",
    "answer",
    "voicemail",
    "conference",
    "echo",
    "send",
    "stop",
];

/// Variable and param names come from us only.
const NAMES: &[&str] = &[
    // Our constant guard (names::UNROUTED_GUARD), never a tenant's value.
    "execute_on_answer_lpbx_unrouted",
    "dial-string",
    // The channels section's constant refusal.
    "dial-prefix",
    "absolute-dial-string",
    "user_context",
    "domain_name",
    "lpbx_org",
    "hold_music",
    "a1-hash",
    "allow-empty-password",
    "vm-password",
    "vm-enabled",
    "vm-mailto",
    "vm-email-all-messages",
    "vm-attach-file",
    "vm-keep-local-after-email",
    "effective_caller_id_name",
    "effective_caller_id_number",
    "outbound_caller_id_name",
    "outbound_caller_id_number",
    "lpbx_ext",
    "lpbx_trunk_org",
    "sip-forbid-register",
    "username",
    "auth-username",
    "password",
    "realm",
    "proxy",
    "outbound-proxy",
    "register-proxy",
    "register",
    "register-transport",
    "from-user",
    "from-domain",
    "caller-id-in-from",
    "expire-seconds",
    "retry-seconds",
    "ping",
    "context",
    "extension",
    "rate",
    "channels",
    "interval",
];

fn check_schema(e: &Element) {
    check_element(e, "");
}

/// The one value written verbatim with `${` in it: a carrier password (printable ASCII chosen by
/// the carrier). Sofia stores gateway params as given and never expands them, and the `$` is
/// written as `&#36;` so the preprocessor cannot see it either.
fn is_gateway_password(e: &Element, parent: &str) -> bool {
    parent == "gateway" && e.name == "param" && e.attr("name") == Some("password")
}

fn check_element(e: &Element, parent: &str) {
    let allowed = SCHEMA
        .iter()
        .find(|(n, _)| *n == e.name)
        .unwrap_or_else(|| panic!("unexpected element <{}>", e.name))
        .1;
    for (k, v) in &e.attrs {
        assert!(
            allowed.contains(&k.as_str()),
            "unexpected attribute {k} on <{}>",
            e.name
        );
        let secret = is_gateway_password(e, parent) && k == "value";
        assert!(
            secret || !v.contains("$${"),
            "preprocessor variable in {k}={v}"
        );
        let ours = e.name == "param"
            && e.attr("name") == Some("dial-string")
            && v == freeswitch::DIAL_STRING;
        assert!(
            ours || secret || !v.contains("${"),
            "channel variable we did not write: <{} {k}={v}>",
            e.name
        );
        assert!(!v.chars().any(char::is_control));
    }
    if e.name == "action" {
        assert!(
            APPS.contains(&e.attr("application").unwrap_or("")),
            "{:?}",
            e.attrs
        );
    }
    if matches!(e.name.as_str(), "param" | "variable") {
        assert!(
            NAMES.contains(&e.attr("name").unwrap_or("")),
            "{:?}",
            e.attrs
        );
    }
    if e.name == "user" {
        assert!(e.attr("cacheable").is_none());
    }
    if e.attr("name") == Some("password") {
        assert_eq!(parent, "gateway", "a plain password outside a gateway");
    }
    for c in &e.children {
        check_element(c, &e.name);
    }
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("${system(rm -rf /)}".to_owned()),
        Just("$${base_dir}".to_owned()),
        Just("<X-PRE-PROCESS cmd=\"exec\" data=\"touch /tmp/x\"/>".to_owned()),
        Just("</include>".to_owned()),
        Just("<include>".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("\"' onload=x".to_owned()),
        Just("a\nb\r\n<?".to_owned()),
        Just("acme.test&action=user_call".to_owned()),
        Just("org_acme".to_owned()),
        Just("1001".to_owned()),
        Just("acme.test".to_owned()),
        any::<String>(),
        "[ -~]{0,40}",
    ]
}

fn display_name() -> impl Strategy<Value = DisplayName> {
    "[\\PC]{1,40}".prop_filter_map("display name", |s| DisplayName::parse(&s).ok())
}

fn company() -> impl Strategy<Value = CompanyName> {
    "[\\PC]{1,100}".prop_filter_map("company", |s| CompanyName::parse(&s).ok())
}

fn email() -> impl Strategy<Value = Email> {
    "[a-zA-Z0-9._%+-]{1,20}@[a-z]{1,8}\\.[a-z]{2,4}"
        .prop_filter_map("email", |s| Email::parse(&s).ok())
}

#[derive(Debug)]
struct Tenant {
    slug: String,
    domain: String,
    names: Vec<DisplayName>,
    company: CompanyName,
    email: Email,
    password: String,
}

fn tenant() -> impl Strategy<Value = Tenant> {
    (
        "[a-z][a-z0-9]{1,12}",
        "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.(test|example|invalid)",
        prop::collection::vec(display_name(), 2),
        company(),
        email(),
        "[ -~]{1,128}",
    )
        .prop_map(|(slug, domain, names, company, email, password)| Tenant {
            slug,
            domain,
            names,
            company,
            email,
            password,
        })
}

/// An org like acme but with the tenant's strings everywhere they can go.
fn build(t: &Tenant, template: OrgInput) -> Option<OrgInput> {
    let mut input = template;
    input.slug = OrgSlug::parse(&t.slug).ok()?;
    input.domain = SipDomain::parse(&t.domain).ok()?;
    input.company = t.company.clone();
    for (ext, name) in input.config.extensions.iter_mut().zip(&t.names) {
        ext.display_name = name.clone();
        ext.voicemail_email = Some(t.email.clone());
    }
    for trunk in &mut input.trunks {
        if matches!(trunk.config, TrunkConfig::Own(_)) {
            trunk.password = Some(t.password.clone());
        }
    }
    input.moh_dir = Some(format!("/var/lib/littlepbx/moh/{}", t.slug));
    Some(input)
}

/// Every kind of request, with `h` in the caller-controlled fields, for org `slug`/`domain`.
fn requests(slug: &str, domain: &str, h: &str) -> Vec<String> {
    let reg = fixture("10_directory_register_sip_auth.txt").replace("acme.test", domain);
    let invite = fixture("20_directory_invite_sip_auth.txt").replace("acme.test", domain);
    let call = fixture("22_directory_user_call_bridge_user_1002.txt").replace("acme.test", domain);
    let ctx = format!("org_{slug}");
    let mut out = vec![
        reg.clone(),
        with_param(&reg, "sip_auth_realm", h),
        with_param(&reg, "sip_to_host", h),
        with_param(&reg, "key_value", h),
        with_param(&reg, "X-Hostile", h),
        with_param(&invite, "sip_from_user", h),
        with_param(&call, "user", h),
        call.clone(),
        fixture("04_directory_gateways_profile_launch.txt"),
        fixture("05_directory_network_list.txt").replace("127.0.0.1", "trunks.littlepbx.invalid"),
        with_param(
            &fixture("12_directory_user_exists.txt")
                .replace("acme.test", "trunks.littlepbx.invalid"),
            "user",
            &format!("{slug}.in.1"),
        ),
        with_param(
            &fixture("01_config_cdr_csv_startup.txt"),
            "key_value",
            "local_stream.conf",
        ),
        dialplan(&ctx, "1001", Some(domain), Some("1002")),
        dialplan(&ctx, "1003", Some(domain), Some("1002")),
        dialplan(&ctx, "+4930123456", Some(domain), Some("1001")),
        dialplan(&ctx, "*97", Some(domain), Some(h)),
        dialplan(&ctx, h, Some(domain), Some("1001")),
        dialplan(h, "1001", Some(domain), Some("1001")),
        dialplan(&format!("{ctx}_inbound"), h, Some(domain), None),
        carrier_call("+15550100100", "203.0.113.9", Some(h), Some(h)),
        carrier_call(h, h, None, None),
        crate::golden::chat_body(("1001", domain), ("1002", domain)),
        with_param(
            &crate::golden::chat_body(("1001", domain), ("1002", domain)),
            "context",
            h,
        ),
        with_param(
            &crate::golden::chat_body(("1001", domain), ("1002", domain)),
            "to",
            h,
        ),
    ];
    out.push(with_param(&reg, "section", h));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn answers_from_arbitrary_tenant_strings_are_safe(a in tenant(), b in tenant(), h in hostile()) {
        prop_assume!(a.slug != b.slug && a.domain != b.domain);
        let mut second = globex_input();
        second.dids.clear();
        second.config.did_routes.clear();
        second.config.options.default_caller_id = None;
        let (Some(first), Some(second)) = (build(&a, acme_input()), build(&b, second)) else {
            return Ok(());
        };
        let lookup = MemoryLookup::new(vec![OrgView::new(first), OrgView::new(second)]).unwrap();
        let settings = settings();
        for t in [&a, &b] {
            for body in requests(&t.slug, &t.domain, &h) {
                let Ok(req) = Request::parse(body.as_bytes()) else { continue };
                let ans = answer(&req, &lookup, &settings, &AllowAll);
                let tree = check_document(&ans.xml);
                check_schema(&tree);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..600)) {
        let lookup = lookup();
        if let Ok(req) = Request::parse(&body) {
            let ans = answer(&req, &lookup, &settings(), &AllowAll);
            check_schema(&check_document(&ans.xml));
        }
    }

    #[test]
    fn random_pairs_of_known_keys_never_panic(
        pairs in prop::collection::vec((prop::sample::select(KEYS), hostile()), 0..24),
        section in prop::sample::select(&["directory", "dialplan", "chatplan", "configuration", "x"][..]),
    ) {
        let mut body = format!("section={section}");
        for (k, v) in pairs {
            body.push('&');
            body.push_str(k);
            body.push('=');
            body.extend(form_urlencoded::byte_serialize(v.as_bytes()));
        }
        let lookup = lookup();
        let req = Request::parse(body.as_bytes()).unwrap();
        let ans = answer(&req, &lookup, &settings(), &AllowAll);
        check_schema(&check_document(&ans.xml));
    }
}

const KEYS: &[&str] = &[
    "tag_name",
    "key_name",
    "key_value",
    "action",
    "purpose",
    "profile",
    "key",
    "user",
    "domain",
    "ip",
    "sip_auth_username",
    "sip_auth_realm",
    "sip_auth_method",
    "sip_auth_uri",
    "sip_auth_nonce",
    "sip_auth_response",
    "sip_to_user",
    "sip_to_host",
    "sip_from_user",
    "sip_from_host",
    "Hunt-Context",
    "Hunt-Destination-Number",
    "variable_domain_name",
    "variable_user_name",
    "variable_sip_network_ip",
    "variable_sip_gateway",
    "variable_acl_token",
    "context",
    "from_user",
    "from_host",
    "to",
    "to_user",
    "to_host",
    "proto",
    "dest_proto",
];

#[test]
fn all_known_keys_with_valid_values_reach_every_branch_without_panicking() {
    // A deterministic sweep: each key set to a plausible value on top of each fixture.
    let lookup = lookup();
    let values = [
        "acme.test",
        "globex.test",
        "1001",
        "sip_auth",
        "gateways",
        "network-list",
        "external",
        "id",
        "org_acme",
        "public",
        "+15550100100",
        "203.0.113.9",
        "acme.in",
        "sip",
    ];
    for f in fixture_names() {
        for k in KEYS {
            for v in values {
                let body = with_param(&fixture(&f), k, v);
                let req = Request::parse(body.as_bytes()).unwrap();
                let ans = answer(&req, &lookup, &settings(), &AllowAll);
                check_schema(&check_document(&ans.xml));
            }
        }
    }
}

#[test]
fn trunk_input_debug_hides_the_password() {
    let t = TrunkInput {
        role: TrunkRole::Inbound,
        config: TrunkConfig::SameAsInbound,
        password: Some("hunter2".into()),
    };
    assert!(!format!("{t:?}").contains("hunter2"));
}
