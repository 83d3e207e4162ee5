//! Fanvil `<mac>.cfg`: the `<<VOIP CONFIG FILE>>` text format, `Key :value` lines in
//! modules. The phone book over LDAP is not written for Fanvil.

use std::fmt::Display;

use super::{is_https, line, transport_number, RenderError};
use crate::DeviceConfig;

const FORMAT: &str = "Fanvil";

struct Cfg {
    out: String,
}

impl Cfg {
    fn set(&mut self, key: &str, field: &'static str, value: &str) -> Result<(), RenderError> {
        let value = line(FORMAT, field, value)?;
        self.raw(key, value);
        Ok(())
    }

    fn raw(&mut self, key: &str, value: impl Display) {
        self.out.push_str(&format!("{key:<19}:{value}\n"));
    }

    fn module(&mut self, name: &str) {
        self.out.push_str(&format!("\n<{name} CONFIG MODULE>\n"));
    }
}

pub(super) fn render(config: &DeviceConfig) -> Result<String, RenderError> {
    let mut c = Cfg {
        out: String::from("<<VOIP CONFIG FILE>>Version:2.0000000000\n"),
    };

    c.module("SIP");
    c.raw("--SIP Line List--", "");
    match &config.account {
        Some(a) => {
            c.set("SIP1 Phone Number", "extension number", &a.number)?;
            c.set("SIP1 Display Name", "display name", &a.display_name)?;
            c.set("SIP1 Register Addr", "SIP domain", &a.sip_domain)?;
            c.raw("SIP1 Register Port", a.proxy_port);
            c.set("SIP1 Register User", "extension number", &a.number)?;
            c.set("SIP1 Register Pswd", "SIP password", &a.password)?;
            c.raw("SIP1 Register TTL", a.expiry_secs);
            c.raw("SIP1 Enable Reg", 1);
            c.set("SIP1 Proxy Addr", "SIP proxy", &a.proxy_host)?;
            c.raw("SIP1 Proxy Port", a.proxy_port);
            c.raw("SIP1 Transport", transport_number(a.transport));
            c.set("SIP1 MWI Num", "voicemail number", &a.voicemail_number)?;
        }
        None => {
            for key in [
                "SIP1 Phone Number",
                "SIP1 Display Name",
                "SIP1 Register Addr",
                "SIP1 Register User",
                "SIP1 Register Pswd",
            ] {
                c.raw(key, "");
            }
            c.raw("SIP1 Enable Reg", 0);
            c.raw("SIP1 Proxy Addr", "");
            c.raw("SIP1 MWI Num", "");
        }
    }

    c.module("AUTOUPDATE");
    let p = &config.provisioning;
    c.set("Default Username", "provisioning user name", &p.username)?;
    c.set("Default Password", "provisioning password", &p.password)?;
    c.set("Flash Server IP", "provisioning URL", &p.url)?;
    if is_https(&p.url) {
        c.raw("Flash Protocol", 5);
    }

    c.out.push_str("\n<<END OF FILE>>\n");
    Ok(c.out)
}
