//! Snom D-series: `<settings><phone-settings>` XML, served both as the first contact's
//! `snom<model>-<MAC>.htm` and as `<MAC>.xml`, which the file names as the next one.

use super::xml::Xml;
use super::{ldap_attrs, plain, RenderError};
use crate::{DeviceConfig, Transport};

const FORMAT: &str = "Snom";

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
        Transport::Tls => "tls",
    }
}

pub(super) fn render(config: &DeviceConfig) -> Result<String, RenderError> {
    let f = |field, value| plain(FORMAT, field, value);
    const LINE: &[(&str, &str)] = &[("idx", "1"), ("perm", "R")];
    const SET: &[(&str, &str)] = &[("perm", "R")];
    let mut x = Xml::new("utf-8", None);
    x.start("settings", &[]);
    x.start("phone-settings", &[("e", "2")]);

    x.comment(" Identity 1 ");
    match &config.account {
        Some(a) => {
            x.element("user_active", LINE, "on");
            x.element("user_realname", LINE, f("display name", &a.display_name)?);
            x.element("user_name", LINE, f("extension number", &a.number)?);
            x.element("user_pname", LINE, f("extension number", &a.number)?);
            x.element("user_pass", LINE, f("SIP password", &a.password)?);
            x.element("user_host", LINE, f("SIP domain", &a.sip_domain)?);
            let outbound = format!(
                "{}:{};transport={}",
                f("SIP proxy", &a.proxy_host)?,
                a.proxy_port,
                transport(a.transport)
            );
            x.element("user_outbound", LINE, &outbound);
            x.element("user_expiry", LINE, &a.expiry_secs.to_string());
            x.element(
                "user_mailbox",
                LINE,
                f("voicemail number", &a.voicemail_number)?,
            );
        }
        None => {
            x.element("user_active", LINE, "off");
            for name in [
                "user_realname",
                "user_name",
                "user_pname",
                "user_pass",
                "user_host",
                "user_outbound",
                "user_mailbox",
            ] {
                x.element(name, LINE, "");
            }
        }
    }

    x.comment(" Provisioning ");
    let p = &config.provisioning;
    let next = format!(
        "{}{}.xml",
        f("provisioning URL", &p.url)?,
        config.mac.upper()
    );
    x.element("setting_server", SET, &next);
    x.element(
        "http_client_user",
        SET,
        f("provisioning user name", &p.username)?,
    );
    x.element(
        "http_client_pass",
        SET,
        f("provisioning password", &p.password)?,
    );
    x.element(
        "settings_refresh_timer",
        SET,
        &(crate::CHECK_EVERY_MINUTES * 60).to_string(),
    );

    x.comment(" Phone book (LDAP) ");
    match &config.phonebook {
        Some(b) => {
            let (name_attr, number_attr) = ldap_attrs(FORMAT, b)?;
            x.element("ldap_server", SET, f("phone book host", &b.host)?);
            x.element("ldap_port", SET, &b.port.to_string());
            x.element("ldap_base", SET, f("phone book base", &b.base)?);
            x.element("ldap_username", SET, f("phone book bind DN", &b.bind_dn)?);
            x.element("ldap_password", SET, f("phone book password", &b.password)?);
            x.element(
                "ldap_search_filter",
                SET,
                f("phone book name filter", &b.name_filter)?,
            );
            x.element(
                "ldap_number_filter",
                SET,
                f("phone book number filter", &b.number_filter)?,
            );
            x.element("ldap_name_attributes", SET, name_attr);
            x.element("ldap_number_attributes", SET, number_attr);
            x.element("ldap_display_name", SET, &format!("%{name_attr}"));
            x.element("ldap_max_hits", SET, &b.max_hits.to_string());
        }
        None => x.element("ldap_server", SET, ""),
    }

    x.end("phone-settings");
    x.end("settings");
    Ok(x.finish())
}
