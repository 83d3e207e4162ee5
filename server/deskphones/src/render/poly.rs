//! Poly UC Software / PVOS: the master file `<mac>.cfg` names `<mac>-littlepbx.cfg`,
//! which holds the settings as attributes of a `<polycomConfig>` document.

use super::xml::Xml;
use super::{is_https, ldap_attrs, plain, RenderError};
use crate::files::POLY_PHONE_SUFFIX;
use crate::{DeviceConfig, Transport};

const FORMAT: &str = "Poly";

/// The master configuration file: no firmware file, and one configuration file.
pub(super) fn master(config: &DeviceConfig) -> String {
    let files = format!("{}{POLY_PHONE_SUFFIX}", config.mac.lower());
    let mut x = Xml::new("UTF-8", Some("yes"));
    x.empty_lines(
        "APPLICATION",
        &[
            ("APP_FILE_PATH", ""),
            ("CONFIG_FILES", &files),
            ("MISC_FILES", ""),
            ("LOG_FILE_DIRECTORY", ""),
            ("OVERRIDES_DIRECTORY", ""),
            ("CONTACTS_DIRECTORY", ""),
            ("LICENSE_DIRECTORY", ""),
            ("USER_PROFILES_DIRECTORY", ""),
            ("CALL_LISTS_DIRECTORY", ""),
            ("COREFILE_DIRECTORY", ""),
        ],
    );
    x.finish()
}

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "UDPOnly",
        Transport::Tcp => "TCPOnly",
        Transport::Tls => "TLS",
    }
}

pub(super) fn phone(config: &DeviceConfig) -> Result<String, RenderError> {
    let f = |field, value| plain(FORMAT, field, value);
    let mut x = Xml::new("UTF-8", Some("yes"));
    x.start("polycomConfig", &[]);

    match &config.account {
        Some(a) => {
            let port = a.proxy_port.to_string();
            let expires = a.expiry_secs.to_string();
            x.empty_lines(
                "reg",
                &[
                    ("reg.1.address", f("extension number", &a.number)?),
                    ("reg.1.auth.userId", f("extension number", &a.number)?),
                    ("reg.1.auth.password", f("SIP password", &a.password)?),
                    ("reg.1.displayName", f("display name", &a.display_name)?),
                    ("reg.1.label", f("line label", &a.label)?),
                    ("reg.1.server.1.address", f("SIP domain", &a.sip_domain)?),
                    ("reg.1.server.1.port", &port),
                    ("reg.1.server.1.transport", transport(a.transport)),
                    ("reg.1.server.1.expires", &expires),
                    (
                        "reg.1.outboundProxy.address",
                        f("SIP proxy", &a.proxy_host)?,
                    ),
                    ("reg.1.outboundProxy.port", &port),
                    ("reg.1.outboundProxy.transport", transport(a.transport)),
                ],
            );
            x.empty_lines(
                "msg",
                &[
                    ("msg.mwi.1.callBackMode", "contact"),
                    (
                        "msg.mwi.1.callBack",
                        f("voicemail number", &a.voicemail_number)?,
                    ),
                ],
            );
        }
        None => {
            x.empty_lines(
                "reg",
                &[
                    ("reg.1.address", ""),
                    ("reg.1.auth.userId", ""),
                    ("reg.1.auth.password", ""),
                    ("reg.1.displayName", ""),
                    ("reg.1.label", ""),
                    ("reg.1.server.1.address", ""),
                    ("reg.1.outboundProxy.address", ""),
                ],
            );
            x.empty_lines(
                "msg",
                &[
                    ("msg.mwi.1.callBackMode", "disabled"),
                    ("msg.mwi.1.callBack", ""),
                ],
            );
        }
    }

    let p = &config.provisioning;
    let period = (crate::CHECK_EVERY_MINUTES * 60).to_string();
    x.empty_lines(
        "prov",
        &[
            ("prov.polling.enabled", "1"),
            ("prov.polling.mode", "rel"),
            ("prov.polling.period", &period),
        ],
    );
    x.empty_lines(
        "device",
        &[
            ("device.set", "1"),
            ("device.prov.serverType.set", "1"),
            (
                "device.prov.serverType",
                if is_https(&p.url) { "HTTPS" } else { "HTTP" },
            ),
            ("device.prov.serverName.set", "1"),
            ("device.prov.serverName", f("provisioning URL", &p.url)?),
            ("device.prov.user.set", "1"),
            (
                "device.prov.user",
                f("provisioning user name", &p.username)?,
            ),
            ("device.prov.password.set", "1"),
            (
                "device.prov.password",
                f("provisioning password", &p.password)?,
            ),
        ],
    );

    match &config.phonebook {
        Some(b) => {
            let (name_attr, number_attr) = ldap_attrs(FORMAT, b)?;
            let address = format!("ldap://{}", f("phone book host", &b.host)?);
            let port = b.port.to_string();
            x.empty_lines("feature", &[("feature.corporateDirectory.enabled", "1")]);
            x.empty_lines(
                "dir",
                &[
                    ("dir.corp.address", &address),
                    ("dir.corp.port", &port),
                    ("dir.corp.transport", "TCP"),
                    ("dir.corp.baseDN", f("phone book base", &b.base)?),
                    ("dir.corp.scope", "sub"),
                    ("dir.corp.user", f("phone book bind DN", &b.bind_dn)?),
                    ("dir.corp.password", f("phone book password", &b.password)?),
                    ("dir.corp.attribute.1.name", name_attr),
                    ("dir.corp.attribute.1.label", "Name"),
                    ("dir.corp.attribute.1.type", "first_name"),
                    ("dir.corp.attribute.1.searchable", "1"),
                    ("dir.corp.attribute.2.name", number_attr),
                    ("dir.corp.attribute.2.label", "Phone"),
                    ("dir.corp.attribute.2.type", "phone_number"),
                    ("dir.corp.attribute.2.searchable", "1"),
                ],
            );
        }
        None => {
            x.empty_lines("feature", &[("feature.corporateDirectory.enabled", "0")]);
        }
    }

    x.end("polycomConfig");
    Ok(x.finish())
}
