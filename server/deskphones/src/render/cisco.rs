//! Cisco 7800 / 8800 multiplatform (3PCC) firmware: a `<flat-profile>` XML of
//! parameter elements, fetched as `<mac>.xml` through the profile rule `…/$MA.xml`.

use super::xml::Xml;
use super::{ldap_attrs, plain, RenderError};
use crate::{DeviceConfig, Transport};

const FORMAT: &str = "Cisco";
const NA: &[(&str, &str)] = &[("ua", "na")];

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
        Transport::Tls => "TLS",
    }
}

/// A value inside the profile rule, where `$` starts a macro and the options
/// `[--uid … --pwd …]` are split at spaces, may be quoted and end at `]`.
fn rule_part<'a>(field: &'static str, value: &'a str) -> Result<&'a str, RenderError> {
    let value = plain(FORMAT, field, value)?;
    if value.is_empty() {
        return Err(RenderError::Unsupported {
            format: FORMAT,
            field,
            found: "nothing",
        });
    }
    if value.contains(['$', '[', ']', '"', '\'']) || value.contains(char::is_whitespace) {
        return Err(RenderError::Unsupported {
            format: FORMAT,
            field,
            found: "a space, a quote, $, [ or ]",
        });
    }
    Ok(value)
}

pub(super) fn render(config: &DeviceConfig) -> Result<String, RenderError> {
    let f = |field, value| plain(FORMAT, field, value);
    let mut x = Xml::new("UTF-8", None);
    x.start("flat-profile", &[]);

    x.comment(" Extension 1 ");
    match &config.account {
        Some(a) => {
            x.element("Station_Name", NA, f("line label", &a.label)?);
            x.element("Line_Enable_1_", NA, "Yes");
            x.element("Proxy_1_", NA, f("SIP domain", &a.sip_domain)?);
            let proxy = format!("{}:{}", f("SIP proxy", &a.proxy_host)?, a.proxy_port);
            x.element("Outbound_Proxy_1_", NA, &proxy);
            x.element("Use_Outbound_Proxy_1_", NA, "Yes");
            x.element("SIP_Transport_1_", NA, transport(a.transport));
            x.element("Register_1_", NA, "Yes");
            x.element("Register_Expires_1_", NA, &a.expiry_secs.to_string());
            x.element("Display_Name_1_", NA, f("display name", &a.display_name)?);
            x.element("User_ID_1_", NA, f("extension number", &a.number)?);
            x.element("Password_1_", NA, f("SIP password", &a.password)?);
            x.element("Use_Auth_ID_1_", NA, "Yes");
            x.element("Auth_ID_1_", NA, f("extension number", &a.number)?);
            x.element(
                "Voice_Mail_Number",
                NA,
                f("voicemail number", &a.voicemail_number)?,
            );
        }
        None => {
            x.element("Station_Name", NA, "");
            x.element("Line_Enable_1_", NA, "No");
            for name in [
                "Proxy_1_",
                "Outbound_Proxy_1_",
                "Display_Name_1_",
                "User_ID_1_",
                "Password_1_",
                "Auth_ID_1_",
                "Voice_Mail_Number",
            ] {
                x.element(name, NA, "");
            }
            x.element("Use_Outbound_Proxy_1_", NA, "No");
        }
    }

    x.comment(" Provisioning ");
    let p = &config.provisioning;
    let rule = format!(
        "[--uid {} --pwd {}]{}$MA.xml",
        rule_part("provisioning user name", &p.username)?,
        rule_part("provisioning password", &p.password)?,
        rule_part("provisioning URL", &p.url)?,
    );
    x.element("Profile_Rule", NA, &rule);
    x.element("Resync_On_Reset", NA, "Yes");
    x.element(
        "Resync_Periodic",
        NA,
        &(crate::CHECK_EVERY_MINUTES * 60).to_string(),
    );

    x.comment(" Phone book (LDAP) ");
    match &config.phonebook {
        Some(b) => {
            let (name_attr, number_attr) = ldap_attrs(FORMAT, b)?;
            x.element("LDAP_Dir_Enable", NA, "Yes");
            x.element("LDAP_Corp_Dir_Name", NA, f("phone book name", &b.name)?);
            let server = format!("{}:{}", f("phone book host", &b.host)?, b.port);
            x.element("LDAP_Server", NA, &server);
            x.element("LDAP_Auth_Method", NA, "Simple");
            x.element("LDAP_Client_DN", NA, f("phone book bind DN", &b.bind_dn)?);
            x.element("LDAP_Password", NA, f("phone book password", &b.password)?);
            x.element("LDAP_Search_Base", NA, f("phone book base", &b.base)?);
            let attrs = format!("a={name_attr},n=Name;a={number_attr},n=Phone,t=p");
            x.element("LDAP_Display_Attrs", NA, &attrs);
        }
        None => x.element("LDAP_Dir_Enable", NA, "No"),
    }

    x.end("flat-profile");
    Ok(x.finish())
}
