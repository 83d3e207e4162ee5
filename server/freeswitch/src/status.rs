//! What LittlePBX asks FreeSWITCH about its state over the event socket, and how the answers
//! read: the commands (`sofia xmlstatus ...`, the ones sent on every (re)connection) and the
//! parsers of their XML output (read with quick-xml, entities decoded).

use std::collections::HashMap;

use domain::SipDomain;
use quick_xml::events::Event;
use quick_xml::Reader;

/// The command that reports one gateway's state.
pub fn gateway_status_command(gateway: &str) -> String {
    format!("sofia xmlstatus gateway {gateway}")
}

/// The registrations of one org's domain on the phones' profile. FreeSWITCH selects the
/// domain exactly (`sip_host = '<domain>'`); callers still drop rows of any other domain.
pub fn registrations_command(internal_profile: &str, domain: &SipDomain) -> String {
    format!(
        "sofia xmlstatus profile {internal_profile} user @{}",
        domain.as_str()
    )
}

/// The commands sent whenever the event socket (re)connects. FreeSWITCH may have started while
/// LittlePBX was unreachable, and then it has no carrier ACL and no gateways: it reads both from
/// our answers only when told. Both commands touch no call.
pub fn on_connect_commands(external_profile: &str) -> [String; 2] {
    [
        "reloadacl".to_owned(),
        format!("sofia profile {external_profile} rescan"),
    ]
}

/// FreeSWITCH's directories that every XML lookup writes to: mod_xml_curl writes each answer
/// to a file in `temp_dir`, and `switch_xml_parse_file` copies it to two more files in `log_dir`
/// while holding one lock that every lookup shares (switch_xml.c, 1.10.12). On a disk file
/// system that create-and-delete cycle costs FreeSWITCH CPU and makes lookups queue for the lock
/// in a registration storm (docs/registration-storm.md); on tmpfs it is a memory copy.
pub const SCRATCH_DIR_VARIABLES: [&str; 2] = ["temp_dir", "log_dir"];

/// The command that reads one of FreeSWITCH's global variables (`hostname`, `temp_dir`...).
pub fn global_variable_command(name: &str) -> String {
    format!("global_getvar {name}")
}

/// The command that reads one variable of a channel, for a channel uuid a request named; `None`
/// unless the uuid is hex digits and dashes only (it goes into an event-socket command).
pub fn channel_variable_command(uuid: &str, variable: &str) -> Option<String> {
    crate::channels::is_uuid(uuid).then(|| format!("uuid_getvar {uuid} {variable}"))
}

/// The command that lists FreeSWITCH's channels (its core database) as JSON.
pub const CHANNELS_COMMAND: &str = "show channels as json";

/// The uuids of the channels in a [`CHANNELS_COMMAND`] listing whose presence id is
/// `presence_id` (a phone's legs carry `<extension>@<domain>`), well-formed uuids only, at most
/// `max`. An empty listing (`{"row_count":0}`) or anything unreadable gives none.
pub fn channels_with_presence(listing: &str, presence_id: &str, max: usize) -> Vec<String> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(listing) else {
        return Vec::new();
    };
    json["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|row| row["presence_id"].as_str() == Some(presence_id))
        .filter_map(|row| row["uuid"].as_str())
        .filter(|uuid| crate::channels::is_uuid(uuid))
        .take(max)
        .map(str::to_owned)
        .collect()
}

/// The gateway a `sofia profile P killgw|startgw NAME` command names.
pub fn gateway_in_command(command: &str) -> Option<&str> {
    let mut words = command.split_whitespace();
    match (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) {
        (Some("sofia"), Some("profile"), Some(_), Some("killgw" | "startgw"), Some(name)) => {
            Some(name)
        }
        _ => None,
    }
}

/// A gateway's registration state and its ping status, as `sofia xmlstatus gateway` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayState {
    /// `REGED`, `NOREG`, `FAIL_WAIT`...
    pub state: String,
    /// `UP` / `DOWN` when the gateway is pinged.
    pub ping_status: Option<String>,
}

/// The answer of [`gateway_status_command`]; `None` for "Invalid Gateway!" or anything that is
/// not a `<gateway>` document.
pub fn parse_gateway_status(output: &str) -> Option<GatewayState> {
    let mut gateway = records(output, "gateway", "gateway")?.pop()?;
    Some(GatewayState {
        state: gateway.remove("state")?,
        ping_status: gateway.remove("status"),
    })
}

/// One registered phone: a row of `sofia xmlstatus profile P user @D` or of sofia's
/// `sip_registrations` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registration {
    pub user: String,
    pub host: String,
    pub call_id: String,
    pub contact: String,
    pub agent: String,
    pub expires_in_s: Option<i64>,
    pub network_ip: String,
    pub network_port: String,
    pub transport: String,
}

/// The registrations of a `sofia xmlstatus profile P user|reg ...` answer. `None` when the
/// answer is not such a document ("Invalid Profile!", `-ERR ...`).
pub fn parse_registrations(xml: &str) -> Option<Vec<Registration>> {
    let rows = records(xml, "profile", "registration")?;
    Some(rows.into_iter().map(registration).collect())
}

fn registration(mut fields: HashMap<String, String>) -> Registration {
    let mut take = |name: &str| fields.remove(name).unwrap_or_default();
    let user_at_host = take("user");
    let (user, host) = match user_at_host.rsplit_once('@') {
        Some((user, host)) => (user.to_owned(), host.to_owned()),
        None => (user_at_host, String::new()),
    };
    let (transport, expires_in_s) = registration_status(&take("status"));
    Registration {
        user,
        host,
        call_id: take("call-id"),
        contact: take("contact"),
        agent: take("agent"),
        expires_in_s,
        network_ip: take("network-ip"),
        network_port: take("network-port"),
        transport,
    }
}

/// `Registered(UDP-NAT)(unknown) exp(2024-01-01 10:00:00) expsecs(3599)` (sofia's status
/// text, also its `sip_registrations.status` column): the transport and the seconds left.
pub fn registration_status(status: &str) -> (String, Option<i64>) {
    let transport = status
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(t, _)| {
            t.split(['-', ' '])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .filter(|t| matches!(t.as_str(), "udp" | "tcp" | "tls" | "ws" | "wss"))
        .unwrap_or_default();
    let expires = status
        .split_once("expsecs(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(n, _)| n.trim().parse().ok());
    (transport, expires)
}

/// The text of the child elements of every `record` element, in a document whose root element
/// is `root` (`record` may be the root itself). `None` when the text is not such a document.
fn records(xml: &str, root: &str, record: &str) -> Option<Vec<HashMap<String, String>>> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<HashMap<String, String>> = None;
    let mut text = String::new();
    let mut out = Vec::new();
    let mut seen_root = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != root {
                        return None;
                    }
                    seen_root = true;
                }
                path.push(name);
                if path.last().is_some_and(|n| n == record) && current.is_none() {
                    current = Some(HashMap::new());
                }
                text.clear();
            }
            Event::Text(chunk) => text.push_str(&chunk.decode().ok()?),
            Event::GeneralRef(entity) => text.push_str(&resolve_entity(&entity.decode().ok()?)?),
            Event::End(_) => {
                let name = path.pop()?;
                let depth_of_child = path.last().is_some_and(|parent| parent == record);
                match current.as_mut() {
                    Some(fields) if depth_of_child => {
                        fields.insert(name, text.trim().to_owned());
                    }
                    Some(_) if name == record => out.extend(current.take()),
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (seen_root && (!out.is_empty() || root != record)).then_some(out)
}

/// The predefined XML entities and character references (`&amp;`, `&#36;`...).
fn resolve_entity(name: &str) -> Option<String> {
    let predefined = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    let reference = || {
        let number = name.strip_prefix('#')?;
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code)
    };
    predefined.or_else(reference).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_of_one_phone_are_found_by_presence_id() {
        let listing = r#"{"row_count":4,"rows":[
            {"uuid":"aaaa-1","presence_id":"101@pbx.acme.test"},
            {"uuid":"aaaa-2","presence_id":"102@pbx.acme.test"},
            {"uuid":"not a uuid","presence_id":"101@pbx.acme.test"},
            {"uuid":"aaaa-3","presence_id":"101@pbx.acme.test"}]}"#;
        assert_eq!(
            channels_with_presence(listing, "101@pbx.acme.test", 10),
            vec!["aaaa-1".to_owned(), "aaaa-3".to_owned()]
        );
        assert_eq!(
            channels_with_presence(listing, "101@pbx.acme.test", 1).len(),
            1
        );
        assert!(channels_with_presence(listing, "101@pbx.globex.test", 10).is_empty());
        assert!(channels_with_presence(r#"{"row_count":0}"#, "101@x", 10).is_empty());
        assert!(channels_with_presence("-ERR", "101@x", 10).is_empty());
    }

    #[test]
    fn channel_variables_only_for_uuids() {
        assert_eq!(
            channel_variable_command("0a1b2c3d-1111-2222-3333-444455556666", "lpbx_org").as_deref(),
            Some("uuid_getvar 0a1b2c3d-1111-2222-3333-444455556666 lpbx_org")
        );
        for bad in ["", "x; hupall", "abc def", "abc\nbgapi", &"a".repeat(65)] {
            assert_eq!(channel_variable_command(bad, "lpbx_org"), None, "{bad}");
        }
    }

    #[test]
    fn gateway_status_is_parsed() {
        let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<gateway>\n  <name>acme.in</name>\n  <state>REGED</state>\n  <status>UP</status>\n</gateway>\n";
        assert_eq!(
            parse_gateway_status(xml),
            Some(GatewayState {
                state: "REGED".into(),
                ping_status: Some("UP".into())
            })
        );
        assert_eq!(parse_gateway_status("Invalid Gateway!\n"), None);
        assert_eq!(
            parse_gateway_status("<gateway><name>x</name></gateway>"),
            None
        );
        assert_eq!(
            parse_gateway_status("<profile><state>REGED</state></profile>"),
            None
        );
    }

    #[test]
    fn gateway_commands_name_their_gateway() {
        assert_eq!(
            gateway_in_command("sofia profile external killgw acme.in"),
            Some("acme.in")
        );
        assert_eq!(gateway_in_command("sofia profile external rescan"), None);
        assert_eq!(
            gateway_in_command("xml_flush_cache id 101 pbx.acme.localhost"),
            None
        );
    }

    #[test]
    fn registrations_are_read_from_xmlstatus() {
        let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<profile>\n  <registrations>\n    <registration>\n        <call-id>abc@1.2.3.4</call-id>\n        <user>101@pbx.acme.localhost</user>\n        <contact>&quot;Ann&quot; &lt;sip:101@10.0.0.5:5060&gt;</contact>\n        <agent>Yealink SIP-T46S 66.86.0.15 &amp; more</agent>\n        <status>Registered(UDP-NAT)(unknown) exp(2026-12-01 13:00:00) expsecs(3542)</status>\n        <ping-status>Reachable</ping-status>\n        <host>fs1</host>\n        <network-ip>10.0.0.5</network-ip>\n        <network-port>5060</network-port>\n        <sip-auth-user>101</sip-auth-user>\n        <sip-auth-realm>pbx.acme.localhost</sip-auth-realm>\n        <mwi-account>101@pbx.acme.localhost</mwi-account>\n    </registration>\n  </registrations>\n</profile>\n";
        let regs = parse_registrations(xml).unwrap();
        assert_eq!(regs.len(), 1);
        let r = &regs[0];
        assert_eq!(
            (r.user.as_str(), r.host.as_str()),
            ("101", "pbx.acme.localhost")
        );
        assert_eq!(r.agent, "Yealink SIP-T46S 66.86.0.15 & more");
        assert_eq!(r.contact, "\"Ann\" <sip:101@10.0.0.5:5060>");
        assert_eq!(r.call_id, "abc@1.2.3.4");
        assert_eq!(
            (r.network_ip.as_str(), r.network_port.as_str()),
            ("10.0.0.5", "5060")
        );
        assert_eq!((r.transport.as_str(), r.expires_in_s), ("udp", Some(3542)));
        assert_eq!(
            parse_registrations("<profile>\n  <registrations>\n  </registrations>\n</profile>\n"),
            Some(vec![])
        );
        assert_eq!(parse_registrations("Invalid Profile!\n"), None);
        assert_eq!(parse_registrations("-ERR sofia Command not found!\n"), None);
        assert_eq!(
            parse_registrations("<gateway><state>REGED</state></gateway>"),
            None
        );
    }

    #[test]
    fn two_registrations_keep_their_own_fields() {
        let xml = "<profile><registrations><registration><user>101@a.example</user><agent>one</agent></registration><registration><user>102@a.example</user></registration></registrations></profile>";
        let regs = parse_registrations(xml).unwrap();
        assert_eq!(regs.len(), 2);
        assert_eq!(
            (regs[0].user.as_str(), regs[0].agent.as_str()),
            ("101", "one")
        );
        assert_eq!((regs[1].user.as_str(), regs[1].agent.as_str()), ("102", ""));
    }

    #[test]
    fn character_references_are_decoded() {
        assert_eq!(resolve_entity("#36").as_deref(), Some("$"));
        assert_eq!(resolve_entity("#x41").as_deref(), Some("A"));
        assert_eq!(resolve_entity("nbsp"), None);
    }
}
