//! Each vendor's configuration file.

mod cisco;
mod fanvil;
mod grandstream;
mod poly;
mod snom;
mod xml;
mod yealink;

use crate::{DeviceConfig, FileKind, LdapPhonebook, Transport};

/// A file ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub content_type: &'static str,
    pub body: String,
}

pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
pub(crate) const XML: &str = "application/xml; charset=utf-8";

/// A value that cannot be written safely, or faithfully, into the file's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "the {field} contains a control character (such as a line break), \
         which a {format} configuration file cannot carry"
    )]
    ControlCharacter {
        format: &'static str,
        field: &'static str,
    },
    #[error(
        "the {field} starts or ends with a space, which a {format} configuration file would drop"
    )]
    EdgeSpace {
        format: &'static str,
        field: &'static str,
    },
    #[error("the {field} contains {found}, which a {format} configuration file cannot carry")]
    Unsupported {
        format: &'static str,
        field: &'static str,
        found: &'static str,
    },
    #[error("the provisioning URL must start with https:// or http:// and end with /")]
    ProvisioningUrl,
    #[error("{model} phones do not fetch this file ({kind:?})")]
    WrongFile { model: &'static str, kind: FileKind },
}

/// Writes the file `kind` for this device. The kind must be one the device's model
/// fetches (see [`crate::kind_for`]).
pub fn render(kind: FileKind, config: &DeviceConfig) -> Result<Rendered, RenderError> {
    if kind.vendor() != config.model.vendor {
        return Err(RenderError::WrongFile {
            model: config.model.label,
            kind,
        });
    }
    check_url(&config.provisioning.url)?;
    let (content_type, body) = match kind {
        FileKind::YealinkMac => (TEXT, yealink::render(config)?),
        FileKind::PolyMaster => (XML, poly::master(config)),
        FileKind::PolyPhone => (XML, poly::phone(config)?),
        FileKind::GrandstreamXml => (XML, grandstream::render(config)?),
        FileKind::SnomXml => (XML, snom::render(config)?),
        FileKind::FanvilMac => (TEXT, fanvil::render(config)?),
        FileKind::CiscoMpp => (XML, cisco::render(config)?),
    };
    Ok(Rendered { content_type, body })
}

fn check_url(url: &str) -> Result<(), RenderError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(RenderError::ProvisioningUrl)?;
    if rest.len() < 2 || !rest.ends_with('/') || rest.starts_with('/') {
        return Err(RenderError::ProvisioningUrl);
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(RenderError::ProvisioningUrl);
    }
    Ok(())
}

/// True for the provisioning URL's scheme being HTTPS.
pub(crate) fn is_https(url: &str) -> bool {
    url.starts_with("https://")
}

/// Refuses characters no configuration format here may carry: control characters
/// (line breaks, tabs, NUL, DEL, C1) and the Unicode line and paragraph separators.
pub(crate) fn plain<'a>(
    format: &'static str,
    field: &'static str,
    value: &'a str,
) -> Result<&'a str, RenderError> {
    if value
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(RenderError::ControlCharacter { format, field });
    }
    Ok(value)
}

/// For line-based text formats (`key = value`, `Key :value`): also refuses spaces at
/// either end, which the phone trims.
pub(crate) fn line<'a>(
    format: &'static str,
    field: &'static str,
    value: &'a str,
) -> Result<&'a str, RenderError> {
    plain(format, field, value)?;
    if value.trim() != value {
        return Err(RenderError::EdgeSpace { format, field });
    }
    Ok(value)
}

/// An LDAP attribute name: a letter, then letters, digits and hyphens.
pub(crate) fn ldap_attr<'a>(
    format: &'static str,
    field: &'static str,
    value: &'a str,
) -> Result<&'a str, RenderError> {
    let mut chars = value.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(RenderError::Unsupported {
            format,
            field,
            found: "something other than an LDAP attribute name",
        });
    }
    Ok(value)
}

/// The phone book's two attribute names, checked.
pub(crate) fn ldap_attrs<'a>(
    format: &'static str,
    book: &'a LdapPhonebook,
) -> Result<(&'a str, &'a str), RenderError> {
    Ok((
        ldap_attr(format, "phone book name attribute", &book.name_attr)?,
        ldap_attr(format, "phone book number attribute", &book.number_attr)?,
    ))
}

/// `0` UDP, `1` TCP, `2` TLS: the numbering Yealink, Grandstream and Fanvil share.
pub(crate) fn transport_number(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "0",
        Transport::Tcp => "1",
        Transport::Tls => "2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioning_urls() {
        for ok in [
            "https://pbx.example.com/provision/device/",
            "http://10.0.0.1/",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "pbx.example.com/provision/",
            "ftp://pbx.example.com/",
            "https://pbx.example.com/provision",
            "https:///",
            "https://pbx.example.com/a b/",
            "https://pbx.example.com/\n/",
        ] {
            assert_eq!(check_url(bad), Err(RenderError::ProvisioningUrl), "{bad:?}");
        }
    }

    #[test]
    fn text_values() {
        assert_eq!(line("F", "f", "Ann O'Neil & Co"), Ok("Ann O'Neil & Co"));
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "a\0b",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            assert!(
                matches!(
                    line("F", "f", bad),
                    Err(RenderError::ControlCharacter { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            line("F", "f", " a"),
            Err(RenderError::EdgeSpace { .. })
        ));
        assert!(matches!(
            line("F", "f", "a "),
            Err(RenderError::EdgeSpace { .. })
        ));
        assert_eq!(plain("F", "f", " a "), Ok(" a "));
    }

    #[test]
    fn attribute_names() {
        assert!(ldap_attr("F", "f", "telephoneNumber").is_ok());
        assert!(ldap_attr("F", "f", "x-mobile2").is_ok());
        for bad in ["", "1cn", "cn sn", "cn,n=x", "cn;", "%cn"] {
            assert!(ldap_attr("F", "f", bad).is_err(), "{bad:?}");
        }
    }
}
