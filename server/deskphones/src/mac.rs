//! MAC addresses of desk phones.

use std::fmt;
use std::str::FromStr;

/// A phone's MAC address: unicast and not all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac([u8; 6]);

/// Why a text is not a phone's MAC address. The message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error(
        "not a MAC address: type the 12 hexadecimal digits printed on the phone's label, \
         for example 00:15:65:AA:BB:CC, 00-15-65-AA-BB-CC, 0015.65AA.BBCC or 001565AABBCC"
    )]
    Format,
    #[error(
        "00:00:00:00:00:00 is not a phone's MAC address: type the MAC printed on the phone's label"
    )]
    Zero,
    #[error(
        "{0} is a multicast or broadcast address, not a phone's MAC address (a phone's second \
         digit is 0, 2, 4, 6, 8, A, C or E): check the MAC printed on the phone's label"
    )]
    Multicast(String),
}

impl Mac {
    /// Reads `00:15:65:AA:BB:CC`, `00-15-65-aa-bb-cc`, `0015.65aa.bbcc` or `001565aabbcc`
    /// (hexadecimal digits in either case) and nothing else.
    pub fn parse(s: &str) -> Result<Mac, MacError> {
        let b = s.as_bytes();
        let digits: Vec<u8> = match b.len() {
            12 => b.to_vec(),
            17 => {
                let sep = b[2];
                if sep != b':' && sep != b'-' {
                    return Err(MacError::Format);
                }
                let mut d = Vec::with_capacity(12);
                for (i, &c) in b.iter().enumerate() {
                    if i % 3 == 2 {
                        if c != sep {
                            return Err(MacError::Format);
                        }
                    } else {
                        d.push(c);
                    }
                }
                d
            }
            14 => {
                let mut d = Vec::with_capacity(12);
                for (i, &c) in b.iter().enumerate() {
                    if i % 5 == 4 {
                        if c != b'.' {
                            return Err(MacError::Format);
                        }
                    } else {
                        d.push(c);
                    }
                }
                d
            }
            _ => return Err(MacError::Format),
        };
        let octets = hex12(&digits).ok_or(MacError::Format)?;
        Mac::from_octets(octets)
    }

    /// The six octets, refused when all zero or multicast (this includes broadcast).
    pub fn from_octets(octets: [u8; 6]) -> Result<Mac, MacError> {
        let mac = Mac(octets);
        if octets == [0; 6] {
            return Err(MacError::Zero);
        }
        if octets[0] & 1 == 1 {
            return Err(MacError::Multicast(mac.colons()));
        }
        Ok(mac)
    }

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// `001565aabbcc`
    pub fn lower(&self) -> String {
        self.0.iter().map(|o| format!("{o:02x}")).collect()
    }

    /// `001565AABBCC`
    pub fn upper(&self) -> String {
        self.0.iter().map(|o| format!("{o:02X}")).collect()
    }

    /// `00:15:65:AA:BB:CC`, for people to read.
    pub fn colons(&self) -> String {
        self.0
            .iter()
            .map(|o| format!("{o:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Exactly 12 hexadecimal digits (either case) to six octets.
pub(crate) fn hex12(digits: &[u8]) -> Option<[u8; 6]> {
    if digits.len() != 12 {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, pair) in digits.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

impl fmt::Display for Mac {
    /// Lowercase without separators: `001565aabbcc`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lower())
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({})", self.colons())
    }
}

impl FromStr for Mac {
    type Err = MacError;
    fn from_str(s: &str) -> Result<Mac, MacError> {
        Mac::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCTETS: [u8; 6] = [0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc];

    #[test]
    fn accepts_each_written_form_in_either_case() {
        for s in [
            "00:15:65:AA:BB:CC",
            "00:15:65:aa:bb:cc",
            "00-15-65-aa-bb-cc",
            "00-15-65-AA-BB-CC",
            "0015.65aa.bbcc",
            "0015.65AA.BBCC",
            "001565aabbcc",
            "001565AABBCC",
            "001565AaBbCc",
        ] {
            assert_eq!(Mac::parse(s).unwrap().octets(), OCTETS, "{s}");
        }
    }

    #[test]
    fn writes_lower_upper_display_and_colons() {
        let mac = Mac::parse("00:15:65:AA:BB:CC").unwrap();
        assert_eq!(mac.lower(), "001565aabbcc");
        assert_eq!(mac.upper(), "001565AABBCC");
        assert_eq!(mac.to_string(), "001565aabbcc");
        assert_eq!(mac.colons(), "00:15:65:AA:BB:CC");
        assert_eq!("001565aabbcc".parse::<Mac>().unwrap(), mac);
    }

    #[test]
    fn refuses_wrong_lengths_and_separators() {
        for s in [
            "",
            "001565aabbc",
            "001565aabbccd",
            "00:15:65:AA:BB",
            "00:15:65:AA:BB:CC:DD",
            "00:15:65-AA:BB:CC",
            "00.15.65.AA.BB.CC",
            "0015:65aa:bbcc",
            "001.565.aab.bcc",
            "0015.65aa.bbcc.",
            " 001565aabbcc",
            "001565aabbcc ",
            "00:1565:AA:BB:CC:",
            "0x1565aabbcc",
            "+01565aabbcc",
        ] {
            assert_eq!(Mac::parse(s), Err(MacError::Format), "{s:?}");
        }
    }

    #[test]
    fn refuses_non_hex_digits() {
        for s in [
            "00156gaabbcc",
            "00:15:65:AG:BB:CC",
            "0015.65aa.bbcz",
            "00156\u{e9}abbcc",
        ] {
            assert_eq!(Mac::parse(s), Err(MacError::Format), "{s:?}");
        }
    }

    #[test]
    fn refuses_zero_broadcast_and_multicast() {
        assert_eq!(Mac::parse("000000000000"), Err(MacError::Zero));
        assert_eq!(Mac::parse("00:00:00:00:00:00"), Err(MacError::Zero));
        for s in [
            "ffffffffffff",
            "01:00:5e:00:00:01",
            "3333.0000.0001",
            "0115.65aa.bbcc",
        ] {
            assert!(matches!(Mac::parse(s), Err(MacError::Multicast(_))), "{s}");
        }
        // Locally administered unicast is a valid device address.
        assert!(Mac::parse("02:00:00:00:00:01").is_ok());
    }

    #[test]
    fn messages_say_what_to_type() {
        assert!(MacError::Format.to_string().contains("00:15:65:AA:BB:CC"));
        let m = Mac::parse("ff:ff:ff:ff:ff:ff").unwrap_err().to_string();
        assert!(
            m.contains("FF:FF:FF:FF:FF:FF") && m.contains("label"),
            "{m}"
        );
    }
}
