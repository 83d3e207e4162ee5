//! Provider-wide knobs of the rendering, set once at start-up and validated there.

/// Where the provider's default music on hold lives (mod_local_stream needs at least one
/// `<directory>` or it fails to load, and orgs without their own music play this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultMoh {
    /// Stream name, e.g. `default`; streams `<name>/8000` and `<name>/16000` are defined.
    pub name: String,
    /// Absolute directory holding `8000/` and `16000/` subdirectories. `$${sounds_dir}` cannot be
    /// used: every `$` we write is escaped so the preprocessor never expands anything.
    pub dir: String,
}

/// Rendering settings. See [`Settings::default`] for the values LittlePBX ships with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The sofia profile of all orgs' phones.
    pub internal_profile: String,
    /// The sofia profile facing carriers; the only one that gets gateways.
    pub external_profile: String,
    /// The context carrier calls land in (ACL pass context and gateway `context`).
    pub public_context: String,
    /// Numbers that always route to the outbound trunk, without limits or caller ID.
    pub emergency_numbers: Vec<String>,
    /// `hold_music` of orgs with music on but no file of their own.
    pub default_hold_music: String,
    /// The default stream defined in `local_stream.conf`; `None` defines none (then another
    /// binding or static file must define one).
    pub default_moh: Option<DefaultMoh>,
    /// mod_voicemail profile (storage stays FreeSWITCH's default, per domain and box).
    pub voicemail_profile: String,
    /// mod_conference profile used to configure a new room.
    pub conference_profile: String,
    /// The directory domain of the carrier ACL: acl.conf has
    /// `<list name="lpbx_trunks" default="deny"><node type="allow" domain="THIS"/></list>`.
    /// It must not be a domain any org can have; `.invalid` guarantees it.
    pub trunk_acl_domain: String,
    /// Gateway `retry-seconds`.
    pub gateway_retry_seconds: u32,
    /// Gateway `ping` (OPTIONS every N seconds). Off by default: a carrier that ignores OPTIONS
    /// would have its gateway marked down and outbound calls would fail.
    pub gateway_ping_seconds: Option<u32>,
    /// Largest answer we produce; mod_xml_curl drops anything over 1 MiB.
    pub max_answer_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            internal_profile: "internal".into(),
            external_profile: "external".into(),
            public_context: "public".into(),
            emergency_numbers: vec!["112".into(), "911".into()],
            default_hold_music: "local_stream://default".into(),
            default_moh: Some(DefaultMoh {
                name: "default".into(),
                dir: "/usr/share/freeswitch/sounds/music".into(),
            }),
            voicemail_profile: "default".into(),
            conference_profile: "default".into(),
            trunk_acl_domain: "trunks.littlepbx.invalid".into(),
            gateway_retry_seconds: 30,
            gateway_ping_seconds: None,
            max_answer_bytes: 1_000_000,
        }
    }
}

/// A setting that would put unexpected text into FreeSWITCH XML or commands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name} is invalid: {why}")]
pub struct SettingsError {
    pub name: &'static str,
    pub why: &'static str,
}

fn refuse(name: &'static str, why: &'static str) -> Result<(), SettingsError> {
    Err(SettingsError { name, why })
}

/// `[A-Za-z0-9_.-]+`: profile, context, stream and domain names.
pub(crate) fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An absolute path of `[A-Za-z0-9_./-]` without `..` segments.
pub(crate) fn is_safe_path(value: &str) -> bool {
    value.starts_with('/')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
        && !value.split('/').any(|segment| segment == "..")
}

/// `local_stream://<token>` or `silence_stream://<ms>` (`-1` plays silence forever).
fn is_hold_music(value: &str) -> bool {
    if let Some(name) = value.strip_prefix("local_stream://") {
        return is_token(name);
    }
    value
        .strip_prefix("silence_stream://")
        .is_some_and(|ms| ms == "-1" || (!ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit())))
}

impl Settings {
    /// Checks every value that ends up in XML attributes or event-socket commands.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let tokens = [
            ("internal_profile", &self.internal_profile),
            ("external_profile", &self.external_profile),
            ("public_context", &self.public_context),
            ("voicemail_profile", &self.voicemail_profile),
            ("conference_profile", &self.conference_profile),
            ("trunk_acl_domain", &self.trunk_acl_domain),
        ];
        for (name, value) in tokens {
            if !is_token(value) {
                return refuse(name, "use letters, digits, '_', '.' and '-' only");
            }
        }
        if self.internal_profile == self.external_profile {
            return refuse("external_profile", "must differ from the internal profile");
        }
        if self.public_context.starts_with("org_") {
            return refuse("public_context", "org_ is reserved for org contexts");
        }
        for number in &self.emergency_numbers {
            if !(2..=6).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
                return refuse("emergency_numbers", "each is 2 to 6 digits");
            }
        }
        self.validate_moh()?;
        if self.gateway_retry_seconds < 5 {
            return refuse("gateway_retry_seconds", "at least 5");
        }
        if self.gateway_ping_seconds.is_some_and(|s| s < 5) {
            return refuse("gateway_ping_seconds", "at least 5");
        }
        if !(64 * 1024..=1024 * 1024).contains(&self.max_answer_bytes) {
            return refuse("max_answer_bytes", "between 64 KiB and 1 MiB");
        }
        Ok(())
    }

    fn validate_moh(&self) -> Result<(), SettingsError> {
        if !is_hold_music(&self.default_hold_music) {
            return refuse(
                "default_hold_music",
                "local_stream://<name> or silence_stream://<ms>",
            );
        }
        if let Some(moh) = &self.default_moh {
            if !is_token(&moh.name) || moh.name.contains("_moh") {
                return refuse("default_moh.name", "a plain token not ending in _moh");
            }
            if !is_safe_path(&moh.dir) {
                return refuse("default_moh.dir", "an absolute path of safe characters");
            }
        }
        Ok(())
    }

    /// True when `number` is one of the emergency numbers.
    pub fn is_emergency(&self, number: &str) -> bool {
        self.emergency_numbers.iter().any(|n| n == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Settings::default().validate(), Ok(()));
    }

    #[test]
    fn unsafe_values_are_refused() {
        let base = Settings::default;
        let bad = [
            Settings {
                external_profile: "ext ernal".into(),
                ..base()
            },
            Settings {
                default_moh: Some(DefaultMoh {
                    name: "default".into(),
                    dir: "/music/../etc".into(),
                }),
                ..base()
            },
            Settings {
                emergency_numbers: vec!["9${x}".into()],
                ..base()
            },
            Settings {
                default_hold_music: "local_stream://$${x}".into(),
                ..base()
            },
            Settings {
                internal_profile: "external".into(),
                ..base()
            },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
        let silence = Settings {
            default_hold_music: "silence_stream://-1".into(),
            ..base()
        };
        assert_eq!(silence.validate(), Ok(()));
    }
}
