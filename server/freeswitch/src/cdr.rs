//! Call records as FreeSWITCH's `mod_json_cdr` sends them (`POST /fs/cdr`): decoding, what
//! they say about the call (the compact row) and to which org they may be attributed.
//!
//! # What FreeSWITCH sends (mod_json_cdr.c, switch_ivr.c)
//!
//! `POST <url>?uuid=<uuid>`, one record per channel, when the channel is destroyed. The body is
//! raw JSON (`Content-Type: application/json`, the default), `cdr=<URL-encoded JSON>` with
//! `encode=true`, or `cdr=<base64>` with `encode=base64`; all three are accepted, told apart by
//! the body itself. Inside, every channel variable **value** is URL-encoded when
//! `encode-values` is on (its default): detected, see [`values_are_url_encoded`]. `callflow`
//! is an array in current versions and repeated `"callflow"` keys in older ones; both are
//! read. Caller profiles come newest first, each with a `profile_index` counting from 1, and
//! their `times` are microseconds since the epoch as strings (`"0"` when not reached).
//!
//! # Attribution
//!
//! A record belongs to an org **only** through `variables.lpbx_org`, which LittlePBX itself
//! puts on calls (the directory user's variables, the org context's `export`, and `public` for
//! a DID; see [`crate::names::ORG_MARKER`]), and only if that org exists and no caller profile
//! ran in another org's context. `domain_name`, SIP headers and caller IDs are never used to
//! attribute. Anything else is kept in `cdr_orphans` for the provider.
//!
//! # One row per call
//!
//! FreeSWITCH also reports the **B leg** of each bridged call (`log-b-leg` defaults to on). It
//! is recognised the way mod_json_cdr itself does (a caller profile with an `originator`),
//! answered 200 and not stored: the A leg's record describes the whole call.
//!
//! | row field | from the A leg's record |
//! |---|---|
//! | `start_ms` / `answer_ms` / `end_ms` | `created_time` / `answered_time` / `hangup_time` of the caller profiles (µs → ms), else `start_uepoch` / `answer_uepoch` / `end_uepoch` |
//! | `duration_s`, `billsec` | the variables `duration`, `billsec`; else computed from the times |
//! | `direction` | `in` when the call carries a DID marker (`lpbx_did`) or began in the `public` context; `out` when it was bridged to a `sofia/gateway/` or dialled an outside number (`+` and 6-15 digits); else `internal` |
//! | called number | `destination_number` of the newest caller profile that ran in an org context |
//! | `extension` | inbound: the called number (the extension the DID rang); otherwise the caller, `lpbx_ext` (a directory variable of the authenticated user), else `user_name` |
//! | `did` | inbound: `lpbx_did`; outbound: `effective_caller_id_number` when it is an E.164 number |
//! | `other_party` | inbound: the caller ID number of the first caller profile; otherwise the called number |
//! | `answered` | some caller profile was bridged (`bridged_time`, else the `bridge_uepoch` variable), or the call reached a feature code (`*97`...) and was answered |
//! | `hangup_cause` | `hangup_cause` |

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use domain::cdr::{CdrDirection, NewCdr, CALL_UUID_MAX};
use domain::{ExtensionNumber, OrgSlug, E164};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::names;

/// Why a record was refused (400). The text is for the person reading FreeSWITCH's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

fn malformed(text: impl Into<String>) -> Malformed {
    Malformed(text.into())
}

// ---------------------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------------------

/// The JSON text of a request body: raw JSON, `cdr=<URL-encoded JSON>` or `cdr=<base64>`.
pub fn json_of_body(body: &[u8]) -> Result<Vec<u8>, Malformed> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        return Ok(trimmed.to_vec());
    }
    let value = form_urlencoded::parse(trimmed)
        .find(|(name, _)| name == "cdr")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| {
            malformed("the body is neither JSON nor a form with a cdr= field (mod_json_cdr's encode setting)")
        })?;
    if value.trim_start().starts_with('{') {
        return Ok(value.into_bytes());
    }
    // encode=base64 sends the base64 text unescaped, so form decoding may have turned '+'
    // into ' '; take the raw field instead.
    let raw = trimmed
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(b"cdr="))
        .unwrap_or_default();
    let compact: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(&compact)
        .ok()
        .filter(|json| json.trim_ascii_start().starts_with(b"{"))
        .ok_or_else(|| {
            malformed("the cdr= field is neither JSON, URL-encoded JSON nor base64 JSON")
        })
}

// ---------------------------------------------------------------------------------------
// The JSON document
// ---------------------------------------------------------------------------------------

/// The parts of a mod_json_cdr document we read. `callflow` collects an array, one object, or
/// repeated `"callflow"` keys (older FreeSWITCH).
#[derive(Debug, Default)]
struct RawCdr {
    variables: Option<Map<String, Value>>,
    callflow: Vec<Value>,
    app_log: Option<Value>,
}

impl<'de> Deserialize<'de> for RawCdr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawCdr;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object (a mod_json_cdr record)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCdr, A::Error> {
                let mut raw = RawCdr::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "variables" => {
                            let more: Map<String, Value> = map.next_value()?;
                            raw.variables.get_or_insert_with(Map::new).extend(more);
                        }
                        "callflow" => match map.next_value::<Value>()? {
                            Value::Array(items) => raw.callflow.extend(items),
                            item @ Value::Object(_) => raw.callflow.push(item),
                            _ => {}
                        },
                        "app_log" => raw.app_log = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(raw)
            }
        }
        deserializer.deserialize_map(RawVisitor)
    }
}

/// One caller profile of the callflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Profile {
    index: Option<u32>,
    context: String,
    destination: String,
    caller_id_number: String,
    /// This channel was originated by another (a B leg).
    has_originator: bool,
    created_us: i64,
    answered_us: i64,
    bridged_us: i64,
    hangup_us: i64,
    /// Applications of the dialplan extension that ran in this profile.
    apps: Vec<(String, String)>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn field(object: &Value, name: &str) -> String {
    object.get(name).and_then(text).unwrap_or_default()
}

fn micros(object: &Value, name: &str) -> i64 {
    field(object, name)
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|t| *t > 0)
        .unwrap_or(0)
}

fn apps_of(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .map(|apps| {
            apps.iter()
                .map(|a| (field(a, "app_name"), field(a, "app_data")))
                .collect()
        })
        .unwrap_or_default()
}

fn profile(entry: &Value) -> Profile {
    let caller = entry.get("caller_profile").cloned().unwrap_or_default();
    let times = entry.get("times").cloned().unwrap_or_default();
    Profile {
        index: field(entry, "profile_index").trim().parse().ok(),
        context: field(&caller, "context"),
        destination: field(&caller, "destination_number"),
        caller_id_number: field(&caller, "caller_id_number"),
        has_originator: caller.get("originator").is_some(),
        created_us: micros(&times, "created_time"),
        answered_us: micros(&times, "answered_time"),
        bridged_us: micros(&times, "bridged_time"),
        hangup_us: micros(&times, "hangup_time"),
        apps: apps_of(entry.get("extension").and_then(|e| e.get("applications"))),
    }
}

/// The profiles oldest first: by `profile_index` when every profile has one, else reversed
/// document order (FreeSWITCH writes the newest first).
fn ordered_profiles(callflow: &[Value]) -> Vec<Profile> {
    let mut profiles: Vec<Profile> = callflow.iter().map(profile).collect();
    if profiles.iter().all(|p| p.index.is_some()) {
        profiles.sort_by_key(|p| p.index);
    } else {
        profiles.reverse();
    }
    profiles
}

/// Characters `switch_url_encode` always escapes (`SWITCH_URL_UNSAFE`).
const URL_UNSAFE: &[u8] = b"\r\n #&+:;<=>?@[\\]^`{|}\"";

/// Whether the variable values were URL-encoded (`encode-values`, on by default). Encoded
/// values never contain the characters FreeSWITCH escapes, while raw ones always do somewhere
/// (`start_stamp` has a space and colons, URIs an `@`); so: encoded when no value has an
/// unescaped unsafe character or a `%` that does not start an escape, and at least one value
/// has an escape.
pub fn values_are_url_encoded<'a>(values: impl Iterator<Item = &'a str> + Clone) -> bool {
    let is_escape = |v: &[u8], i: usize| {
        v.len() > i + 2 && v[i + 1].is_ascii_hexdigit() && v[i + 2].is_ascii_hexdigit()
    };
    let raw_somewhere = values.clone().any(|v| {
        let b = v.as_bytes();
        b.iter().enumerate().any(|(i, c)| {
            (*c == b'%' && !is_escape(b, i)) || (*c != b'%' && URL_UNSAFE.contains(c))
        })
    });
    let escaped_somewhere = values.into_iter().any(|v| {
        let b = v.as_bytes();
        (0..b.len()).any(|i| b[i] == b'%' && is_escape(b, i))
    });
    !raw_somewhere && escaped_somewhere
}

/// `%XX` decoding as `switch_url_decode` does it (no `+` to space: FreeSWITCH escapes `+`).
fn url_decode(value: &str) -> String {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decoded_variables(raw: Option<Map<String, Value>>) -> HashMap<String, String> {
    let pairs: Vec<(String, String)> = raw
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| text(&v).map(|v| (k, v)))
        .collect();
    let encoded = values_are_url_encoded(pairs.iter().map(|(_, v)| v.as_str()));
    pairs
        .into_iter()
        .map(|(k, v)| {
            let v = if encoded { url_decode(&v) } else { v };
            (k, v)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The record
// ---------------------------------------------------------------------------------------

/// A decoded record and what it says about the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub call_uuid: String,
    /// A B leg: not stored (the A leg's record describes the call).
    pub is_b_leg: bool,
    /// `lpbx_org` as the record carried it.
    pub org_marker: Option<String>,
    /// The call's `domain_name`, for the orphan log only.
    pub domain_name: Option<String>,
    /// Org slugs of the org contexts the call ran in.
    pub context_orgs: Vec<String>,
    pub cdr: NewCdr,
}

/// Where a record goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// The org with this slug, if it exists.
    Org(OrgSlug),
    /// Kept aside, with the reason.
    Orphan(String),
}

impl Record {
    /// The org the record may be attributed to: only through the org marker, and only when
    /// no caller profile ran in another org's context.
    pub fn attribution(&self) -> Attribution {
        let Some(marker) = self
            .org_marker
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        else {
            return Attribution::Orphan("no org marker (lpbx_org) on the call".into());
        };
        let Ok(slug) = OrgSlug::parse(marker) else {
            return Attribution::Orphan(format!("org marker {marker:?} is not an org name"));
        };
        if let Some(other) = self.context_orgs.iter().find(|s| *s != slug.as_str()) {
            return Attribution::Orphan(format!(
                "org marker {marker:?} but the call ran in the context of org {other:?}"
            ));
        }
        Attribution::Org(slug)
    }
}

fn is_outside_number(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Printable text, trimmed, without control characters; `None` when empty.
fn clean(value: &str) -> Option<String> {
    let text: String = value.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn extension(value: &str) -> Option<String> {
    ExtensionNumber::parse(value)
        .ok()
        .map(|n| n.as_str().to_owned())
}

fn e164(value: &str) -> Option<String> {
    E164::parse(value).ok().map(|n| n.as_str().to_owned())
}

fn valid_uuid(uuid: &str) -> bool {
    !uuid.is_empty()
        && uuid.len() <= CALL_UUID_MAX
        && uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@'))
}

fn hangup_cause(value: Option<&String>) -> String {
    value
        .map(|v| v.trim())
        .filter(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| "UNKNOWN".into())
}

/// Decodes one record (the JSON text) into the compact row and what attributes it.
/// `query_uuid` is the `?uuid=` FreeSWITCH adds to the URL; `public_context` the context
/// carrier calls land in.
pub fn parse(
    json: &[u8],
    query_uuid: Option<&str>,
    public_context: &str,
) -> Result<Record, Malformed> {
    let raw: RawCdr = serde_json::from_slice(json)
        .map_err(|e| malformed(format!("the call record is not valid JSON: {e}")))?;
    let Some(variables) = raw.variables else {
        return Err(malformed("the call record has no \"variables\" object"));
    };
    let vars = decoded_variables(Some(variables));
    let var = |name: &str| {
        vars.get(name)
            .map(String::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };

    let call_uuid = var("uuid")
        .or(query_uuid.map(str::trim).filter(|u| !u.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| malformed("the call record has no call UUID (variables.uuid)"))?;
    if !valid_uuid(&call_uuid) {
        return Err(malformed(
            "the call UUID has characters a UUID does not have",
        ));
    }
    let profiles = ordered_profiles(&raw.callflow);
    let is_b_leg = profiles.iter().any(|p| p.has_originator);

    // Times: the profiles copy created/answered/hangup from one another; bridged is per profile.
    let var_us = |name: &str| {
        var(name)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|t| *t > 0)
    };
    let first_nonzero =
        |pick: fn(&Profile) -> i64| profiles.iter().map(pick).filter(|t| *t > 0).min();
    let created_us = first_nonzero(|p| p.created_us).or_else(|| var_us("start_uepoch"));
    let answered_us = first_nonzero(|p| p.answered_us).or_else(|| var_us("answer_uepoch"));
    let hangup_us = profiles
        .iter()
        .map(|p| p.hangup_us)
        .max()
        .filter(|t| *t > 0)
        .or_else(|| var_us("end_uepoch"));
    let bridged = profiles.iter().any(|p| p.bridged_us > 0) || var_us("bridge_uepoch").is_some();
    let Some(created_us) = created_us else {
        return Err(malformed(
            "the call record has no start time (callflow times or start_uepoch)",
        ));
    };
    let start_ms = created_us / 1000;
    let end_ms = hangup_us.map_or(start_ms, |t| (t / 1000).max(start_ms));
    let answer_ms = answered_us.map(|t| (t / 1000).clamp(start_ms, end_ms));
    let var_secs = |name: &str| var(name).and_then(|v| v.parse::<u32>().ok());
    let duration_s = var_secs("duration")
        .unwrap_or_else(|| u32::try_from((end_ms - start_ms) / 1000).unwrap_or(0));
    let billsec = var_secs("billsec").unwrap_or_else(|| {
        answer_ms.map_or(0, |a| u32::try_from((end_ms - a) / 1000).unwrap_or(0))
    });

    // Where it went.
    let context_orgs: Vec<String> = {
        let mut slugs: Vec<String> = profiles
            .iter()
            .filter_map(|p| names::parse_context(&p.context).map(|(slug, _)| slug.to_owned()))
            .collect();
        slugs.dedup();
        slugs
    };
    let called = profiles
        .iter()
        .rev()
        .find(|p| names::parse_context(&p.context).is_some())
        .or(profiles.last())
        .map(|p| p.destination.clone())
        .unwrap_or_default();
    let did_marker = var(names::DID_MARKER).and_then(e164);
    let began_public = profiles
        .first()
        .is_some_and(|p| p.context == public_context);
    let mut apps = apps_of(raw.app_log.as_ref().and_then(|a| a.get("applications")));
    apps.extend(profiles.iter().flat_map(|p| p.apps.iter().cloned()));
    let to_gateway = apps
        .iter()
        .any(|(name, data)| name == "bridge" && data.contains("sofia/gateway/"))
        || var("last_arg").is_some_and(|a| a.contains("sofia/gateway/"));
    let direction = if did_marker.is_some() || began_public {
        CdrDirection::In
    } else if to_gateway || is_outside_number(&called) {
        CdrDirection::Out
    } else {
        CdrDirection::Internal
    };

    let caller_ext = || {
        var(names::EXTENSION_MARKER)
            .and_then(extension)
            .or_else(|| var("user_name").and_then(extension))
    };
    let (ext, did, other_party) = match direction {
        CdrDirection::In => (
            extension(&called),
            did_marker,
            profiles
                .first()
                .and_then(|p| clean(&p.caller_id_number))
                .or_else(|| var("caller_id_number").and_then(clean)),
        ),
        CdrDirection::Out => (
            caller_ext(),
            var("effective_caller_id_number").and_then(e164),
            clean(&called),
        ),
        CdrDirection::Internal => (caller_ext(), None, clean(&called)),
    };
    let answered = bridged || (answer_ms.is_some() && called.starts_with('*'));

    Ok(Record {
        call_uuid: call_uuid.clone(),
        is_b_leg,
        org_marker: var(names::ORG_MARKER).map(str::to_owned),
        domain_name: var("domain_name").map(str::to_owned),
        context_orgs,
        cdr: NewCdr {
            call_uuid,
            start_ms,
            answer_ms,
            end_ms,
            duration_s,
            billsec,
            direction,
            answered,
            extension: ext,
            did,
            other_party,
            hangup_cause: hangup_cause(vars.get("hangup_cause")),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
