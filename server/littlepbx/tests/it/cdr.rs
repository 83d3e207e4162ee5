//! `POST /fs/cdr` over real HTTP with records shaped like mod_json_cdr's (switch_ivr.c
//! `switch_ivr_generate_json_cdr`): `variables`, `app_log`, a `callflow` of caller profiles
//! newest first with `times` in microseconds, in the three body encodings and with URL-encoded
//! values, and in the older form with repeated `"callflow"` keys.

use base64::Engine;
use serde_json::{json, Value};
use store::cdr::CdrDirection;
use testkit::db_test;

use crate::common::{spawn_app, spawn_app_with, TestApp};

pub const FS_USER: &str = "freeswitch";
pub const FS_PASSWORD: &str = "fs-test-password";

/// What kind of call a test record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A phone calls another extension (or a feature code) of its org.
    Internal,
    /// A phone calls an outside number through the org's gateway.
    Outbound,
    /// A carrier calls one of the org's DIDs; `public` transfers it to the org's inbound context.
    Inbound,
}

/// A call, described the way a test thinks of it; [`Call::record`] writes FreeSWITCH's JSON.
#[derive(Debug, Clone)]
pub struct Call {
    pub uuid: String,
    /// The org marker (`lpbx_org`); `None` for a call without one.
    pub marker: Option<String>,
    /// The org whose contexts the call ran in (usually the marker's).
    pub context_org: String,
    pub kind: Kind,
    pub start_ms: i64,
    pub ring_s: i64,
    /// Seconds of conversation after someone answered; 0: nobody answered.
    pub talk_s: i64,
    /// When nobody answered: seconds in voicemail (FreeSWITCH answers), or 0 (hang-up).
    pub voicemail_s: i64,
    /// Our extension: the caller (internal, outbound) or the one the DID rang (inbound).
    pub ext: String,
    /// The callee (internal: extension or feature code; outbound: number dialled) or the
    /// caller's number (inbound).
    pub other: String,
    /// Inbound: the DID; outbound: the caller ID shown.
    pub did: Option<String>,
}

impl Call {
    pub fn new(org: &str, uuid: &str, kind: Kind, start_ms: i64) -> Self {
        Self {
            uuid: uuid.into(),
            marker: Some(org.into()),
            context_org: org.into(),
            kind,
            start_ms,
            ring_s: 6,
            talk_s: 0,
            voicemail_s: 0,
            ext: "101".into(),
            other: "102".into(),
            did: None,
        }
    }

    pub fn ext(mut self, ext: &str) -> Self {
        self.ext = ext.into();
        self
    }
    pub fn other(mut self, other: &str) -> Self {
        self.other = other.into();
        self
    }
    pub fn did(mut self, did: &str) -> Self {
        self.did = Some(did.into());
        self
    }
    pub fn talk(mut self, seconds: i64) -> Self {
        self.talk_s = seconds;
        self
    }
    pub fn voicemail(mut self, seconds: i64) -> Self {
        self.voicemail_s = seconds;
        self
    }

    pub fn domain(&self) -> String {
        format!("pbx.{}.localhost", self.context_org)
    }

    fn feature(&self) -> bool {
        self.kind == Kind::Internal && self.other.starts_with('*')
    }

    /// Answered as the stats count it: someone took it, or a feature code answered.
    pub fn answered(&self) -> bool {
        self.talk_s > 0
    }
    pub fn missed(&self) -> bool {
        !self.answered() && self.kind != Kind::Outbound
    }
    /// Microseconds: created, answered (0 = never), bridged (0 = never), hangup.
    fn times(&self) -> (i64, i64, i64, i64) {
        let created = self.start_ms * 1000;
        let ring_end = created + self.ring_s * 1_000_000;
        if self.talk_s > 0 {
            let bridged = if self.feature() { 0 } else { ring_end };
            (
                created,
                ring_end,
                bridged,
                ring_end + self.talk_s * 1_000_000,
            )
        } else if self.voicemail_s > 0 {
            (
                created,
                ring_end,
                0,
                ring_end + self.voicemail_s * 1_000_000,
            )
        } else {
            (created, 0, 0, ring_end)
        }
    }
    pub fn billsec(&self) -> i64 {
        let (_, answered, _, hangup) = self.times();
        if answered > 0 {
            (hangup - answered) / 1_000_000
        } else {
            0
        }
    }
    pub fn direction(&self) -> CdrDirection {
        match self.kind {
            Kind::Internal => CdrDirection::Internal,
            Kind::Outbound => CdrDirection::Out,
            Kind::Inbound => CdrDirection::In,
        }
    }
    pub fn hangup_cause(&self) -> &'static str {
        if self.talk_s > 0 || self.voicemail_s > 0 {
            "NORMAL_CLEARING"
        } else {
            "NO_ANSWER"
        }
    }

    /// The A leg's record as mod_json_cdr writes it (values not yet URL-encoded).
    pub fn record(&self) -> Value {
        let (created, answered, bridged, hangup) = self.times();
        let domain = self.domain();
        let stamp = |us: i64| {
            if us == 0 {
                String::new()
            } else {
                // Like FreeSWITCH's "%Y-%m-%d %T" (the exact clock does not matter here).
                format!(
                    "2026-11-28 09:{:02}:{:02}",
                    (us / 60_000_000) % 60,
                    (us / 1_000_000) % 60
                )
            }
        };
        let org_ctx = format!("org_{}", self.context_org);
        let inbound_ctx = format!("org_{}_inbound", self.context_org);
        let mut vars = serde_json::Map::new();
        let mut set = |k: &str, v: String| {
            if !v.is_empty() {
                vars.insert(k.into(), Value::String(v));
            }
        };
        set("direction", "inbound".into());
        set("uuid", self.uuid.clone());
        set("call_uuid", self.uuid.clone());
        set("session_id", "17".into());
        set("start_stamp", stamp(created));
        set("start_epoch", (created / 1_000_000).to_string());
        set("start_uepoch", created.to_string());
        set("end_stamp", stamp(hangup));
        set("end_uepoch", hangup.to_string());
        if answered > 0 {
            set("answer_stamp", stamp(answered));
            set("answer_uepoch", answered.to_string());
        } else {
            set("answer_uepoch", "0".into());
        }
        if bridged > 0 {
            set("bridge_uepoch", bridged.to_string());
        }
        set("duration", ((hangup - created) / 1_000_000).to_string());
        set("billsec", self.billsec().to_string());
        set("hangup_cause", self.hangup_cause().into());
        set(
            "hangup_cause_q850",
            if self.talk_s > 0 || self.voicemail_s > 0 {
                "16"
            } else {
                "19"
            }
            .into(),
        );
        set("domain_name", domain.clone());
        if let Some(marker) = &self.marker {
            set("lpbx_org", marker.clone());
        }
        set(
            "hold_music",
            format!("local_stream://{}_moh", self.context_org),
        );
        let (bridge_data, caller_number, dest_first) = match self.kind {
            Kind::Inbound => {
                set(
                    "channel_name",
                    format!("sofia/external/{}@198.51.100.7", self.other),
                );
                set("sip_from_user", self.other.clone());
                set("sip_from_host", "198.51.100.7".into());
                set(
                    "sip_full_from",
                    format!("<sip:{}@198.51.100.7>;tag=Kx3", self.other),
                );
                set("sip_network_ip", "198.51.100.7".into());
                set("lpbx_trunk_org", self.context_org.clone());
                set("lpbx_did", self.did.clone().unwrap_or_default());
                set("caller_id_number", self.other.clone());
                (
                    format!("user/{}@{domain}", self.ext),
                    self.other.clone(),
                    self.did
                        .clone()
                        .unwrap_or_default()
                        .trim_start_matches('+')
                        .to_owned(),
                )
            }
            Kind::Outbound | Kind::Internal => {
                set(
                    "channel_name",
                    format!("sofia/internal/{}@{domain}", self.ext),
                );
                set("sip_from_user", self.ext.clone());
                set("sip_from_host", domain.clone());
                set(
                    "sip_full_from",
                    format!("\"Ann Example\" <sip:{}@{domain}>;tag=a1b2", self.ext),
                );
                set("sip_user_agent", "Yealink SIP-T46S 66.86.0.15".into());
                set("user_name", self.ext.clone());
                set("lpbx_ext", self.ext.clone());
                set("user_context", org_ctx.clone());
                set("caller_id_number", self.ext.clone());
                if self.kind == Kind::Outbound {
                    set(
                        "effective_caller_id_number",
                        self.did.clone().unwrap_or_default(),
                    );
                    (
                        format!("sofia/gateway/{}.out/{}", self.context_org, self.other),
                        self.ext.clone(),
                        self.other.clone(),
                    )
                } else {
                    (
                        format!("user/{}@{domain}", self.other),
                        self.ext.clone(),
                        self.other.clone(),
                    )
                }
            }
        };
        let mut apps = vec![
            json!({"app_name": "export", "app_data": format!("lpbx_org={}", self.context_org)}),
            json!({"app_name": "limit", "app_data": format!("hash lpbx_calls {} -1", self.context_org)}),
        ];
        if !self.feature() {
            apps.push(json!({"app_name": "bridge", "app_data": bridge_data}));
        } else {
            apps.push(json!({"app_name": "answer", "app_data": ""}));
            apps.push(
                json!({"app_name": "voicemail", "app_data": format!("check default {domain}")}),
            );
        }
        if self.voicemail_s > 0 {
            apps.push(json!({"app_name": "answer", "app_data": ""}));
            apps.push(json!({"app_name": "voicemail", "app_data": format!("default {domain} {}", self.ext)}));
        }
        let last = apps.last().cloned().unwrap_or_default();
        set(
            "last_app",
            last["app_name"].as_str().unwrap_or_default().to_owned(),
        );
        set(
            "last_arg",
            last["app_data"].as_str().unwrap_or_default().to_owned(),
        );

        let times = |t_created: i64, t_profile: i64, t_bridged: i64| {
            json!({
                "created_time": t_created.to_string(), "profile_created_time": t_profile.to_string(),
                "progress_time": "0", "progress_media_time": (t_created + 500_000).to_string(),
                "answered_time": answered.to_string(), "bridged_time": t_bridged.to_string(),
                "last_hold_time": "0", "hold_accum_time": "0", "hangup_time": hangup.to_string(),
                "resurrect_time": "0", "transfer_time": "0"
            })
        };
        let profile = |index: u32, context: &str, dest: &str, t_bridged: i64| {
            let mut caller = json!({
                "username": if self.kind == Kind::Inbound { "" } else { self.ext.as_str() },
                "dialplan": "XML", "caller_id_name": "", "ani": caller_number,
                "aniii": "", "caller_id_number": caller_number, "network_addr": "198.51.100.7",
                "rdnis": "", "destination_number": dest, "uuid": self.uuid, "source": "mod_sofia",
                "context": context, "chan_name": "sofia/internal/x"
            });
            if t_bridged > 0 {
                caller["originatee"] = json!({"originatee_caller_profiles": [
                    {"username": "", "destination_number": self.other, "context": context, "uuid": format!("{}-b", self.uuid)}
                ]});
            }
            json!({
                "dialplan": "XML", "profile_index": index.to_string(),
                "extension": {"name": "lpbx", "number": dest, "applications": apps.clone()},
                "caller_profile": caller,
                "times": times(created, created + u64::from(index) as i64 * 1000, t_bridged)
            })
        };
        let callflow = match self.kind {
            // Newest first: the inbound context after the transfer, then public.
            Kind::Inbound => vec![
                profile(2, &inbound_ctx, &self.ext, bridged),
                profile(1, "public", &dest_first, 0),
            ],
            _ => vec![profile(1, &org_ctx, &dest_first, bridged)],
        };
        json!({
            "core-uuid": "8d5c8f0e-3c3b-4a5e-9d7e-0a1b2c3d4e5f",
            "switchname": "fs1",
            "channel_data": {"state": "CS_REPORTING", "direction": "inbound", "state_number": "11",
                             "flags": "0=1;1=1;3=1;36=1;37=1;39=1;42=1;47=1;52=1", "caps": "1=1;2=1;3=1;4=1;5=1;6=1"},
            "callStats": {"audio": {"inbound": {"raw_bytes": 93440, "media_bytes": 91040, "packet_count": 584,
                          "mos": 4.5, "quality_percentage": 100, "errorLog": []}}},
            "variables": vars,
            "app_log": {"applications": apps.iter().map(|a| {
                let mut a = a.clone();
                a["app_stamp"] = json!(created.to_string());
                a
            }).collect::<Vec<_>>()},
            "callflow": callflow,
        })
    }

    /// The B leg's record of a bridged call: its profile has an `originator`.
    pub fn b_leg_record(&self) -> Value {
        let mut record = self.record();
        record["variables"]["uuid"] = json!(format!("{}-b", self.uuid));
        record["channel_data"]["direction"] = json!("outbound");
        if let Some(flow) = record["callflow"].as_array_mut() {
            for entry in flow {
                entry["caller_profile"]["originator"] =
                    json!({"originator_caller_profiles": [{"uuid": self.uuid}]});
            }
        }
        record
    }
}

/// `switch_url_encode`: every byte of SWITCH_URL_UNSAFE, and anything not printable ASCII.
pub fn fs_url_encode(text: &str) -> String {
    const UNSAFE: &[u8] = b"\r\n #%&+:;<=>?@[\\]^`{|}\"";
    let mut out = String::new();
    for b in text.bytes() {
        if UNSAFE.contains(&b) || !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// The same record with every variable value URL-encoded (`encode-values=true`).
pub fn encode_values(record: &Value) -> Value {
    let mut record = record.clone();
    if let Some(vars) = record["variables"].as_object_mut() {
        for value in vars.values_mut() {
            if let Some(text) = value.as_str() {
                *value = Value::String(fs_url_encode(text));
            }
        }
    }
    record
}

/// How the body is sent (mod_json_cdr's `encode`).
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    /// `application/json`, the default.
    Raw,
    /// `encode=true`: `cdr=<URL-encoded JSON>`.
    Form,
    /// `encode=base64`: `cdr=<base64>`.
    Base64,
}

pub async fn post_body(
    app: &TestApp,
    uuid: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let response = app
        .http
        .post(format!("{}/fs/cdr?uuid={uuid}", app.base))
        .basic_auth(FS_USER, Some(FS_PASSWORD))
        .header("content-type", content_type)
        .header("user-agent", "freeswitch-json/1.0")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub async fn post_record(
    app: &TestApp,
    uuid: &str,
    record: &Value,
    encoding: Encoding,
) -> (u16, String) {
    let json = serde_json::to_string(record).unwrap();
    let (content_type, body) = match encoding {
        Encoding::Raw => ("application/json", json.into_bytes()),
        Encoding::Form => (
            "application/x-www-form-urlencoded",
            format!("cdr={}", fs_url_encode(&json)).into_bytes(),
        ),
        Encoding::Base64 => (
            "application/x-www-form-base64-encoded",
            format!(
                "cdr={}",
                base64::engine::general_purpose::STANDARD.encode(json)
            )
            .into_bytes(),
        ),
    };
    post_body(app, uuid, content_type, body).await
}

/// Posts a call's record (raw JSON) and asserts it was stored.
pub async fn ingest(app: &TestApp, call: &Call) {
    let (status, text) = post_record(app, &call.uuid, &call.record(), Encoding::Raw).await;
    assert_eq!((status, text.as_str()), (200, "stored\n"), "{}", call.uuid);
}

pub async fn org(app: &TestApp, slug: &str) -> store::OrgId {
    app.create_org(
        slug,
        &format!("boss@{slug}.example"),
        "correct horse battery",
    )
    .await
}

const MINUTE: i64 = 60_000;

fn now() -> i64 {
    store::now_ms()
}

/// The four calls of the issue, and a feature code.
fn realistic(t: i64) -> Vec<Call> {
    vec![
        // 101 calls 102, who answers: a bridged internal call.
        Call::new(
            "acme",
            "c0a8e3c2-1d2b-4a6f-9b1e-000000000001",
            Kind::Internal,
            t,
        )
        .other("102")
        .talk(125),
        // A caller's call to the DID rings 102, nobody answers, it goes to voicemail: missed.
        Call::new(
            "acme",
            "c0a8e3c2-1d2b-4a6f-9b1e-000000000002",
            Kind::Inbound,
            t + MINUTE,
        )
        .ext("102")
        .other("+4930555123")
        .did("+15550100100")
        .voicemail(22),
        // 101 calls out through the org's gateway with the org's number.
        Call::new(
            "acme",
            "c0a8e3c2-1d2b-4a6f-9b1e-000000000003",
            Kind::Outbound,
            t + 2 * MINUTE,
        )
        .other("+4989123456")
        .did("+15550100100")
        .talk(95),
        // A caller's call to the DID is answered by 101.
        Call::new(
            "acme",
            "c0a8e3c2-1d2b-4a6f-9b1e-000000000004",
            Kind::Inbound,
            t + 3 * MINUTE,
        )
        .ext("101")
        .other("+4930555999")
        .did("+15550100100")
        .talk(61),
        // 102 checks voicemail with *97.
        Call::new(
            "acme",
            "c0a8e3c2-1d2b-4a6f-9b1e-000000000005",
            Kind::Internal,
            t + 4 * MINUTE,
        )
        .ext("102")
        .other("*97")
        .talk(30),
    ]
}

db_test!(
    records_are_stored_in_every_encoding,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = org(&app, "acme").await;
        let t = now() - 10 * MINUTE;
        let calls = realistic(t);
        let encodings = [
            Encoding::Raw,
            Encoding::Form,
            Encoding::Base64,
            Encoding::Raw,
            Encoding::Form,
        ];
        for (i, (call, encoding)) in calls.iter().zip(encodings).enumerate() {
            // Every other record with URL-encoded values (encode-values, FreeSWITCH's default).
            let record = if i % 2 == 1 {
                encode_values(&call.record())
            } else {
                call.record()
            };
            let (status, text) = post_record(&app, &call.uuid, &record, encoding).await;
            assert_eq!(
                (status, text.as_str()),
                (200, "stored\n"),
                "{encoding:?} {}",
                call.uuid
            );
        }
        let stored = app.state.store().recent_cdrs(acme, None, 10).await.unwrap();
        assert_eq!(stored.len(), 5);
        for call in &calls {
            let row = &stored
                .iter()
                .find(|r| r.cdr.call_uuid == call.uuid)
                .unwrap()
                .cdr;
            let what = &call.uuid;
            assert_eq!(row.start_ms, call.start_ms, "{what}");
            assert_eq!(row.direction, call.direction(), "{what}");
            assert_eq!(row.answered, call.answered(), "{what}");
            assert_eq!(i64::from(row.billsec), call.billsec(), "{what}");
            assert_eq!(row.extension.as_deref(), Some(call.ext.as_str()), "{what}");
            assert_eq!(
                row.other_party.as_deref(),
                Some(call.other.as_str()),
                "{what}"
            );
            assert_eq!(row.did, call.did, "{what}");
            assert_eq!(row.hangup_cause, call.hangup_cause(), "{what}");
            assert_eq!(
                row.end_ms,
                row.start_ms + i64::from(row.duration_s) * 1000,
                "{what}"
            );
        }
        // The missed DID call was answered by voicemail: billed, but missed.
        let vm = &stored
            .iter()
            .find(|r| r.cdr.call_uuid.ends_with("02"))
            .unwrap()
            .cdr;
        assert!(!vm.answered && vm.billsec == 22 && vm.answer_ms.is_some());
    }
);

db_test!(
    older_freeswitch_repeats_the_callflow_key,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = org(&app, "acme").await;
        let call = Call::new("acme", "old-format-1", Kind::Inbound, now() - MINUTE)
            .ext("103")
            .other("+4930777")
            .did("+15550100100")
            .talk(10);
        // Rewrite `"callflow":[A,B]` as `"callflow":A,"callflow":B` (cJSON_AddItemToObject in a loop).
        let record = call.record();
        let flows: Vec<String> = record["callflow"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("\"callflow\":{f}"))
            .collect();
        let mut without = record.clone();
        without.as_object_mut().unwrap().remove("callflow");
        let text = serde_json::to_string(&without).unwrap();
        let body = format!("{},{}}}", &text[..text.len() - 1], flows.join(","));
        assert_eq!(body.matches("\"callflow\"").count(), 2);
        let (status, answer) =
            post_body(&app, &call.uuid, "application/json", body.into_bytes()).await;
        assert_eq!((status, answer.as_str()), (200, "stored\n"));
        let row = &app.state.store().recent_cdrs(acme, None, 1).await.unwrap()[0].cdr;
        assert_eq!(row.direction, CdrDirection::In);
        assert_eq!(
            row.extension.as_deref(),
            Some("103"),
            "the newest profile (inbound context) names the extension"
        );
        assert!(row.answered);
    }
);

db_test!(
    duplicates_answer_200_and_count_once,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = org(&app, "acme").await;
        let call = Call::new("acme", "dup-1", Kind::Outbound, now() - MINUTE)
            .other("+4989123456")
            .did("+15550100100")
            .talk(42);
        ingest(&app, &call).await;
        // FreeSWITCH retries (e.g. after a lost answer), in any encoding.
        for encoding in [Encoding::Raw, Encoding::Form, Encoding::Base64] {
            let (status, text) = post_record(&app, &call.uuid, &call.record(), encoding).await;
            assert_eq!(status, 200, "{text}");
            assert!(text.starts_with("duplicate"), "{text}");
        }
        let stored = app.state.store().recent_cdrs(acme, None, 10).await.unwrap();
        assert_eq!(stored.len(), 1);
        let totals = app
            .state
            .store()
            .cdr_totals(acme, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!((totals.outbound.calls, totals.outbound.billsec), (1, 42));
    }
);

db_test!(b_legs_are_not_counted, |url: String| async move {
    let app = spawn_app(&url).await;
    let acme = org(&app, "acme").await;
    let call = Call::new("acme", "bridged-1", Kind::Internal, now() - MINUTE)
        .other("102")
        .talk(5);
    let (status, text) =
        post_record(&app, "bridged-1-b", &call.b_leg_record(), Encoding::Raw).await;
    assert_eq!(status, 200);
    assert!(text.starts_with("ignored: a B leg"), "{text}");
    ingest(&app, &call).await;
    let stored = app.state.store().recent_cdrs(acme, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].cdr.call_uuid, "bridged-1");
});

db_test!(
    records_without_a_valid_org_marker_are_kept_aside,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = org(&app, "acme").await;
        let globex = org(&app, "globex").await;
        let t = now() - MINUTE;
        let mut no_marker = Call::new("acme", "orphan-1", Kind::Inbound, t)
            .did("+15550100100")
            .other("+4930111");
        no_marker.marker = None;
        let unknown = Call::new("nope", "orphan-2", Kind::Internal, t).talk(3);
        let mut foreign = Call::new("globex", "orphan-3", Kind::Internal, t).talk(3);
        // Marked globex, but it ran in acme's context: not trusted.
        foreign.context_org = "acme".into();
        let mut not_a_slug = Call::new("acme", "orphan-4", Kind::Internal, t);
        not_a_slug.marker = Some("Acme Inc".into());
        for (call, why) in [
            (&no_marker, "no org marker"),
            (&unknown, "unknown org \"nope\""),
            (&foreign, "context of org \"acme\""),
            (&not_a_slug, "not an org name"),
        ] {
            let (status, text) = post_record(&app, &call.uuid, &call.record(), Encoding::Raw).await;
            assert_eq!(status, 200, "{text}");
            assert!(
                text.starts_with("kept aside for the provider") && text.contains(why),
                "{text}"
            );
            // A retry is a duplicate, not a second orphan.
            let (status, text) = post_record(&app, &call.uuid, &call.record(), Encoding::Raw).await;
            assert_eq!(
                (status, text.starts_with("duplicate")),
                (200, true),
                "{text}"
            );
        }
        let store = app.state.store();
        let orphans = store.orphan_cdrs(10).await.unwrap();
        assert_eq!(orphans.len(), 4);
        let marker_of = |uuid: &str| {
            orphans
                .iter()
                .find(|o| o.orphan.cdr.call_uuid == uuid)
                .unwrap()
                .orphan
                .clone()
        };
        assert_eq!(marker_of("orphan-2").org_marker.as_deref(), Some("nope"));
        assert_eq!(
            marker_of("orphan-1").domain_name.as_deref(),
            Some("pbx.acme.localhost")
        );
        // Shown to no org, although the domain and the contexts name acme.
        assert!(store.recent_cdrs(acme, None, 10).await.unwrap().is_empty());
        assert!(store
            .recent_cdrs(globex, None, 10)
            .await
            .unwrap()
            .is_empty());
    }
);

db_test!(bad_bodies_get_a_clear_4xx, |url: String| async move {
    let app = spawn_app(&url).await;
    org(&app, "acme").await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "application/json",
            b"{\"variables\": {\"uuid\": \"x\"".to_vec(),
            "not valid JSON",
        ),
        (
            "application/json",
            b"[1, 2]".to_vec(),
            "neither JSON nor a form",
        ),
        (
            "application/json",
            br#"{"callflow": []}"#.to_vec(),
            "no \"variables\"",
        ),
        (
            "application/json",
            br#"{"variables": {"uuid": "u-1"}}"#.to_vec(),
            "no start time",
        ),
        (
            "application/json",
            br#"{"variables": {"start_uepoch": "1790000000000000"}}"#.to_vec(),
            "no call UUID",
        ),
        (
            "application/json",
            br#"{"variables": {"uuid": "a b'c", "start_uepoch": "1"}}"#.to_vec(),
            "UUID has characters",
        ),
        (
            "application/x-www-form-urlencoded",
            b"foo=bar".to_vec(),
            "cdr= field",
        ),
        (
            "application/x-www-form-urlencoded",
            b"cdr=%%%not-json".to_vec(),
            "neither JSON",
        ),
    ];
    for (content_type, body, why) in cases {
        let (status, text) = post_body(&app, "", content_type, body).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(why), "{why:?} not in {text:?}");
    }
    // The query's uuid stands in for a missing variables.uuid.
    let (status, text) = post_body(
        &app,
        "from-query-1",
        "application/json",
        br#"{"variables": {"start_uepoch": "1790000000000000", "lpbx_org": "acme"}}"#.to_vec(),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "stored\n"));

    // A long record (many variables) under 1 MiB is fine, over it: 413.
    let mut long = Call::new("acme", "long-1", Kind::Internal, now()).record();
    long["variables"]["padding"] = json!("x".repeat(700 * 1024));
    let (status, text) = post_record(&app, "long-1", &long, Encoding::Raw).await;
    assert_eq!((status, text.as_str()), (200, "stored\n"));

    let mut big = Call::new("acme", "big-1", Kind::Internal, now()).record();
    big["variables"]["padding"] = json!("x".repeat(1024 * 1024));
    let (status, text) = post_record(&app, "big-1", &big, Encoding::Raw).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("larger than 1024 KiB"), "{text}");

    // Without FreeSWITCH's credentials: 401, and nothing stored.
    let call = Call::new("acme", "anon-1", Kind::Internal, now());
    let response = app
        .http
        .post(format!("{}/fs/cdr", app.base))
        .basic_auth(FS_USER, Some("wrong"))
        .json(&call.record())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = app
        .http
        .post(format!("{}/fs/cdr", app.base))
        .json(&call.record())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(app.state.store().orphan_cdrs(10).await.unwrap().is_empty());
});

db_test!(only_allowed_addresses_may_post, |url: String| async move {
    let app = spawn_app_with(&url, |config| {
        config.freeswitch.allowed_ips = vec!["192.0.2.0/24".into()];
    })
    .await;
    org(&app, "acme").await;
    let call = Call::new("acme", "far-1", Kind::Internal, now());
    let (status, _) = post_record(&app, &call.uuid, &call.record(), Encoding::Raw).await;
    assert_eq!(status, 403);
});
