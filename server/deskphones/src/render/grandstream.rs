//! Grandstream GXP / GRP `cfg<mac>.xml`: `<gs_provision>` with P-value elements.

use super::xml::Xml;
use super::{ldap_attrs, plain, transport_number, RenderError};
use crate::DeviceConfig;

const FORMAT: &str = "Grandstream";

pub(super) fn render(config: &DeviceConfig) -> Result<String, RenderError> {
    let f = |field, value| plain(FORMAT, field, value);
    let mut x = Xml::new("UTF-8", None);
    x.start("gs_provision", &[("version", "1")]);
    x.element("mac", &[], &config.mac.lower());
    x.start("config", &[("version", "1")]);

    x.comment(" Account 1 ");
    match &config.account {
        Some(a) => {
            x.comment(" Account active ");
            x.element("P271", &[], "1");
            x.comment(" Account name ");
            x.element("P270", &[], f("line label", &a.label)?);
            x.comment(" SIP server ");
            x.element("P47", &[], f("SIP domain", &a.sip_domain)?);
            x.comment(" Outbound proxy ");
            let proxy = format!("{}:{}", f("SIP proxy", &a.proxy_host)?, a.proxy_port);
            x.element("P48", &[], &proxy);
            x.comment(" SIP user ID ");
            x.element("P35", &[], f("extension number", &a.number)?);
            x.comment(" Authenticate ID ");
            x.element("P36", &[], f("extension number", &a.number)?);
            x.comment(" Authenticate password ");
            x.element("P34", &[], f("SIP password", &a.password)?);
            x.comment(" Display name ");
            x.element("P3", &[], f("display name", &a.display_name)?);
            x.comment(" SIP transport: 0 UDP, 1 TCP, 2 TLS ");
            x.element("P130", &[], transport_number(a.transport));
            x.comment(" Register expiration, in minutes ");
            x.element("P32", &[], &a.expiry_secs.div_ceil(60).max(1).to_string());
            x.comment(" Voice mail access number ");
            x.element("P33", &[], f("voicemail number", &a.voicemail_number)?);
        }
        None => {
            x.comment(" Account inactive, credentials cleared ");
            x.element("P271", &[], "0");
            for p in ["P270", "P47", "P48", "P35", "P36", "P34", "P3", "P33"] {
                x.element(p, &[], "");
            }
        }
    }

    x.comment(" Provisioning ");
    let p = &config.provisioning;
    let (via, path) = match p.url.strip_prefix("https://") {
        Some(path) => ("2", path),
        None => ("1", p.url.strip_prefix("http://").unwrap_or(&p.url)),
    };
    x.comment(" Config upgrade via: 1 HTTP, 2 HTTPS ");
    x.element("P212", &[], via);
    x.comment(" Config server path ");
    x.element("P237", &[], f("provisioning URL", path)?);
    x.comment(" HTTP/HTTPS user name and password ");
    x.element("P1360", &[], f("provisioning user name", &p.username)?);
    x.element("P1361", &[], f("provisioning password", &p.password)?);
    x.comment(" Automatic upgrade: 1 = check every P193 minutes ");
    x.element("P194", &[], "1");
    x.element("P193", &[], &crate::CHECK_EVERY_MINUTES.to_string());

    x.comment(" Phone book (LDAP) ");
    match &config.phonebook {
        Some(b) => {
            let (name_attr, number_attr) = ldap_attrs(FORMAT, b)?;
            x.comment(" Server, port, base DN, user name, password ");
            x.element("P8020", &[], f("phone book host", &b.host)?);
            x.element("P8021", &[], &b.port.to_string());
            x.element("P8022", &[], f("phone book base", &b.base)?);
            x.element("P8023", &[], f("phone book bind DN", &b.bind_dn)?);
            x.element("P8024", &[], f("phone book password", &b.password)?);
            x.comment(" Number filter, name filter, LDAP version ");
            x.element(
                "P8025",
                &[],
                f("phone book number filter", &b.number_filter)?,
            );
            x.element("P8026", &[], f("phone book name filter", &b.name_filter)?);
            x.element("P8027", &[], "3");
            x.comment(" Name attributes, number attributes, display name, max hits ");
            x.element("P8028", &[], name_attr);
            x.element("P8029", &[], number_attr);
            x.element("P8030", &[], &format!("%{name_attr}"));
            x.element("P8031", &[], &b.max_hits.to_string());
        }
        None => {
            x.comment(" No LDAP server ");
            x.element("P8020", &[], "");
        }
    }

    x.end("config");
    x.end("gs_provision");
    Ok(x.finish())
}
