//! Yealink `<mac>.cfg`: `key = value` lines after the `#!version:1.0.0.1` header.
//! The same format serves the T4x/T5x desk phones and the W-series DECT bases.

use std::fmt::Display;

use super::{ldap_attrs, line, transport_number, RenderError};
use crate::DeviceConfig;

const FORMAT: &str = "Yealink";
/// Yealink's word for "set this to empty".
const NULL: &str = "%NULL%";

struct Cfg {
    out: String,
}

impl Cfg {
    fn set(&mut self, key: &str, field: &'static str, value: &str) -> Result<(), RenderError> {
        let value = line(FORMAT, field, value)?;
        if value.contains(NULL) {
            return Err(RenderError::Unsupported {
                format: FORMAT,
                field,
                found: "the text %NULL%",
            });
        }
        let value = if value.is_empty() { NULL } else { value };
        self.raw(key, value);
        Ok(())
    }

    fn num(&mut self, key: &str, value: impl Display) {
        self.raw(key, value);
    }

    fn clear(&mut self, key: &str) {
        self.raw(key, NULL);
    }

    fn raw(&mut self, key: &str, value: impl Display) {
        self.out.push_str(&format!("{key} = {value}\n"));
    }

    fn comment(&mut self, text: &str) {
        self.out.push_str(&format!("\n## {text}\n"));
    }
}

pub(super) fn render(config: &DeviceConfig) -> Result<String, RenderError> {
    let dect = config.model.id == "yealink-w";
    let mut c = Cfg {
        out: String::from("#!version:1.0.0.1\n"),
    };

    c.comment(if dect {
        "Account 1 (handset 1)"
    } else {
        "Account 1"
    });
    match &config.account {
        Some(a) => {
            c.num("account.1.enable", 1);
            c.set("account.1.label", "line label", &a.label)?;
            c.set("account.1.display_name", "display name", &a.display_name)?;
            c.set("account.1.auth_name", "extension number", &a.number)?;
            c.set("account.1.user_name", "extension number", &a.number)?;
            c.set("account.1.password", "SIP password", &a.password)?;
            c.set(
                "account.1.sip_server.1.address",
                "SIP domain",
                &a.sip_domain,
            )?;
            c.num("account.1.sip_server.1.port", a.proxy_port);
            c.num(
                "account.1.sip_server.1.transport_type",
                transport_number(a.transport),
            );
            c.num("account.1.sip_server.1.expires", a.expiry_secs);
            c.num("account.1.outbound_proxy_enable", 1);
            c.set(
                "account.1.outbound_proxy.1.address",
                "SIP proxy",
                &a.proxy_host,
            )?;
            c.num("account.1.outbound_proxy.1.port", a.proxy_port);
            c.set(
                "voice_mail.number.1",
                "voicemail number",
                &a.voicemail_number,
            )?;
        }
        None => {
            c.num("account.1.enable", 0);
            for key in [
                "account.1.label",
                "account.1.display_name",
                "account.1.auth_name",
                "account.1.user_name",
                "account.1.password",
                "account.1.sip_server.1.address",
            ] {
                c.clear(key);
            }
            c.num("account.1.outbound_proxy_enable", 0);
            c.clear("account.1.outbound_proxy.1.address");
            c.clear("voice_mail.number.1");
        }
    }

    c.comment("Provisioning");
    let p = &config.provisioning;
    c.set(
        "static.auto_provision.server.url",
        "provisioning URL",
        &p.url,
    )?;
    c.set(
        "static.auto_provision.server.username",
        "provisioning user name",
        &p.username,
    )?;
    c.set(
        "static.auto_provision.server.password",
        "provisioning password",
        &p.password,
    )?;
    c.num("static.auto_provision.power_on", 1);
    c.num("static.auto_provision.repeat.enable", 1);
    c.num(
        "static.auto_provision.repeat.minutes",
        crate::CHECK_EVERY_MINUTES,
    );

    // The W-series bases are left without LDAP settings.
    if !dect {
        c.comment("Phone book (LDAP)");
        match &config.phonebook {
            Some(b) => {
                let (name_attr, number_attr) = ldap_attrs(FORMAT, b)?;
                c.num("ldap.enable", 1);
                c.set("ldap.host", "phone book host", &b.host)?;
                c.num("ldap.port", b.port);
                c.set("ldap.base", "phone book base", &b.base)?;
                c.set("ldap.user", "phone book bind DN", &b.bind_dn)?;
                c.set("ldap.password", "phone book password", &b.password)?;
                c.set("ldap.name_filter", "phone book name filter", &b.name_filter)?;
                c.set(
                    "ldap.number_filter",
                    "phone book number filter",
                    &b.number_filter,
                )?;
                c.num("ldap.display_name", format!("%{name_attr}"));
                c.num("ldap.name_attr", name_attr);
                c.num("ldap.numb_attr", number_attr);
                c.num("ldap.version", 3);
                c.num("ldap.max_hits", b.max_hits);
                c.num("ldap.call_in_lookup", 1);
            }
            None => c.num("ldap.enable", 0),
        }
    }
    Ok(c.out)
}
