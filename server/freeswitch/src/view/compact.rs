//! The compact storage of an org's extensions and DIDs (see the parent module's "Storage"):
//! fixed-size extension records over one text arena, found by binary search, the
//! [`ExtensionRef`] that reads a record in place, and the sorted DID arena with its routes.

use domain::{
    A1Hash, CallFlow, DisplayName, Email, Extension, ExtensionNumber, ExternalNumber, NoAnswer,
    RingSeconds, VoicemailPin, E164,
};

/// An extension number as stored: its ASCII digits, NUL-padded. Extension numbers have 2 to 5
/// digits, and padded with NULs (which sort before every digit) they compare exactly like the
/// strings, so the records keep the order of `OrgConfig::normalized`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Number([u8; 5]);

impl Number {
    /// `None` unless `s` is 1 to 5 ASCII digits (no stored number can equal anything else).
    pub(super) fn new(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.is_empty() || bytes.len() > 5 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut n = [0; 5];
        n.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self(n))
    }

    pub(super) fn as_str(&self) -> &str {
        let digits = self.0.split(|&b| b == 0).next().unwrap_or_default();
        std::str::from_utf8(digits).unwrap_or_default()
    }
}

/// The no-answer action of a record; its target (if any) is a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Voicemail,
    ForwardExtension,
    ForwardExternal,
    Hangup,
}

/// The text fields of a record, in arena order.
const DISPLAY_NAME: usize = 0;
const PIN: usize = 1;
const EMAIL: usize = 2;
const TARGET: usize = 3;
const CALLER_ID: usize = 4;
const FIELDS: usize = 5;

/// One extension in 36 bytes; its text lies in the org's arena from `text` on, field after
/// field, each `lens[i]` bytes long (0: absent; no present field is empty).
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    a1_hash: [u8; 16],
    text: u32,
    pub(super) number: Number,
    lens: [u8; FIELDS],
    ring_seconds: u16,
    no_answer: Action,
    voicemail_enabled: bool,
    do_not_disturb: bool,
}

impl Record {
    /// Appends the extension's text to `arena` and returns its record; `None` (and `arena`
    /// untouched) if it does not fit the format, which no valid extension does.
    fn store(ext: &Extension, arena: &mut String) -> Option<Self> {
        let (no_answer, target) = match &ext.call_flow.no_answer {
            NoAnswer::Voicemail => (Action::Voicemail, ""),
            NoAnswer::ForwardExtension(n) => (Action::ForwardExtension, n.as_str()),
            NoAnswer::ForwardExternal(n) => (Action::ForwardExternal, n.as_str()),
            NoAnswer::Hangup => (Action::Hangup, ""),
        };
        let mut parts = [""; FIELDS];
        parts[DISPLAY_NAME] = ext.display_name.as_str();
        parts[PIN] = ext.voicemail_pin.as_str();
        parts[EMAIL] = ext.voicemail_email.as_ref().map_or("", Email::as_str);
        parts[TARGET] = target;
        parts[CALLER_ID] = ext.outbound_caller_id.as_ref().map_or("", E164::as_str);
        let mut lens = [0; FIELDS];
        for (len, part) in lens.iter_mut().zip(parts) {
            *len = u8::try_from(part.len()).ok()?;
        }
        let start = arena.len();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        u32::try_from(start + total).ok()?;
        let record = Self {
            a1_hash: decode_hex16(ext.a1_hash.as_str())?,
            text: u32::try_from(start).ok()?,
            number: Number::new(ext.number.as_str())?,
            lens,
            ring_seconds: ext.call_flow.ring_seconds.get(),
            no_answer,
            voicemail_enabled: ext.voicemail_enabled,
            do_not_disturb: ext.do_not_disturb,
        };
        parts.iter().for_each(|p| arena.push_str(p));
        Some(record)
    }
}

/// The extensions of one org: records sorted by number, and their text.
#[derive(Debug, Clone)]
pub(super) struct Extensions {
    pub(super) records: Box<[Record]>,
    arena: Box<str>,
}

impl Extensions {
    pub(super) fn build(list: &[Extension], problems: &mut Vec<String>) -> Self {
        let mut arena = String::new();
        let mut records = Vec::with_capacity(list.len());
        for ext in list {
            match Record::store(ext, &mut arena) {
                Some(record) => records.push(record),
                None => problems.push(format!(
                    "extension {} could not be stored; left out",
                    ext.number
                )),
            }
        }
        // Stable, and a no-op after `normalized()` (the padded numbers sort like the strings);
        // kept so the binary search can rely on it.
        records.sort_by_key(|r| r.number);
        Self {
            records: records.into_boxed_slice(),
            arena: arena.into_boxed_str(),
        }
    }

    /// Of two extensions with the same number the later one is found, as when this was a map.
    pub(super) fn get(&self, number: &str) -> Option<ExtensionRef<'_>> {
        let key = Number::new(number)?;
        let end = self.records.partition_point(|r| r.number <= key);
        let record = self.records.get(end.checked_sub(1)?)?;
        (record.number == key).then_some(ExtensionRef {
            record,
            arena: &self.arena,
        })
    }
}

/// One extension of an [`OrgView`](super::OrgView), read in place. Every value is as the
/// `domain` type held it (the parsers' output), so it needs no further checks.
#[derive(Clone, Copy)]
pub struct ExtensionRef<'v> {
    record: &'v Record,
    arena: &'v str,
}

/// What happens to a call the extension does not answer; see [`NoAnswer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswerRef<'v> {
    Voicemail,
    /// Transfer to this extension number of the org.
    ForwardExtension(&'v str),
    /// Forward to this outside number.
    ForwardExternal(&'v str),
    Hangup,
}

impl<'v> ExtensionRef<'v> {
    fn field(&self, field: usize) -> &'v str {
        let lens = &self.record.lens;
        let skip: usize = lens.iter().take(field).map(|&l| usize::from(l)).sum();
        let len = lens.get(field).map_or(0, |&l| usize::from(l));
        let start = self.record.text as usize + skip;
        self.arena.get(start..start + len).unwrap_or_default()
    }

    fn optional(&self, field: usize) -> Option<&'v str> {
        Some(self.field(field)).filter(|s| !s.is_empty())
    }

    pub fn number(&self) -> &'v str {
        self.record.number.as_str()
    }

    pub fn display_name(&self) -> &'v str {
        self.field(DISPLAY_NAME)
    }

    /// The a1-hash as FreeSWITCH reads it (32 lowercase hex digits), without allocating.
    pub(crate) fn a1_hex(&self) -> Hex32 {
        Hex32::encode(&self.record.a1_hash)
    }

    /// The a1-hash (`md5(number:domain:password)`).
    pub fn a1_hash(&self) -> Option<A1Hash> {
        A1Hash::parse(self.a1_hex().as_str()).ok()
    }

    pub fn voicemail_enabled(&self) -> bool {
        self.record.voicemail_enabled
    }

    pub fn voicemail_pin(&self) -> &'v str {
        self.field(PIN)
    }

    pub fn voicemail_email(&self) -> Option<&'v str> {
        self.optional(EMAIL)
    }

    pub fn ring_seconds(&self) -> u16 {
        self.record.ring_seconds
    }

    pub fn no_answer(&self) -> NoAnswerRef<'v> {
        let target = self.field(TARGET);
        match self.record.no_answer {
            Action::Voicemail => NoAnswerRef::Voicemail,
            Action::ForwardExtension => NoAnswerRef::ForwardExtension(target),
            Action::ForwardExternal => NoAnswerRef::ForwardExternal(target),
            Action::Hangup => NoAnswerRef::Hangup,
        }
    }

    pub fn do_not_disturb(&self) -> bool {
        self.record.do_not_disturb
    }

    /// The extension's own caller ID (`+E164`), whether or not the org (still) owns it.
    pub fn outbound_caller_id(&self) -> Option<&'v str> {
        self.optional(CALLER_ID)
    }

    /// The extension as the `domain` type, parsed back from the stored parts. They were
    /// valid when stored, so `None` would mean a bug in this module.
    pub fn to_extension(&self) -> Option<Extension> {
        let no_answer = match self.no_answer() {
            NoAnswerRef::Voicemail => NoAnswer::Voicemail,
            NoAnswerRef::ForwardExtension(n) => {
                NoAnswer::ForwardExtension(ExtensionNumber::parse(n).ok()?)
            }
            NoAnswerRef::ForwardExternal(n) => {
                NoAnswer::ForwardExternal(ExternalNumber::parse(n).ok()?)
            }
            NoAnswerRef::Hangup => NoAnswer::Hangup,
        };
        Some(Extension {
            number: ExtensionNumber::parse(self.number()).ok()?,
            display_name: DisplayName::parse(self.display_name()).ok()?,
            a1_hash: self.a1_hash()?,
            voicemail_enabled: self.voicemail_enabled(),
            voicemail_pin: VoicemailPin::parse(self.voicemail_pin()).ok()?,
            voicemail_email: self.voicemail_email().map(Email::parse).transpose().ok()?,
            call_flow: CallFlow {
                ring_seconds: RingSeconds::parse(self.ring_seconds()).ok()?,
                no_answer,
            },
            do_not_disturb: self.do_not_disturb(),
            outbound_caller_id: self
                .outbound_caller_id()
                .map(E164::parse)
                .transpose()
                .ok()?,
        })
    }
}

impl std::fmt::Debug for ExtensionRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionRef")
            .field("number", &self.number())
            .field("display_name", &self.display_name())
            .field("voicemail_enabled", &self.voicemail_enabled())
            .field("voicemail_email", &self.voicemail_email())
            .field("ring_seconds", &self.ring_seconds())
            .field("no_answer", &self.no_answer())
            .field("do_not_disturb", &self.do_not_disturb())
            .field("outbound_caller_id", &self.outbound_caller_id())
            .finish_non_exhaustive()
    }
}

/// 16 bytes as 32 lowercase hex digits, on the stack.
pub(crate) struct Hex32([u8; 32]);

impl Hex32 {
    fn encode(bytes: &[u8; 16]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0; 32];
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
        }
        Self(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// 32 lowercase hex digits (an [`A1Hash`]) as 16 bytes.
fn decode_hex16(hex: &str) -> Option<[u8; 16]> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0; 16];
    for (o, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *o = nibble(*hi)? << 4 | nibble(*lo)?;
    }
    Some(out)
}

/// Distinct strings, sorted, back to back in one arena; `ends[i]` is where string `i` ends.
#[derive(Debug, Clone)]
pub(super) struct SortedTexts {
    arena: Box<str>,
    ends: Box<[u32]>,
}

impl SortedTexts {
    pub(super) fn new<'a>(items: impl Iterator<Item = &'a str>) -> Self {
        let mut items: Vec<&str> = items.collect();
        items.sort_unstable();
        items.dedup();
        let mut arena = String::with_capacity(items.iter().map(|s| s.len()).sum());
        let mut ends = Vec::with_capacity(items.len());
        for item in items {
            // More than 4 GiB of DIDs cannot happen; stop rather than store wrong offsets.
            let Ok(end) = u32::try_from(arena.len() + item.len()) else {
                break;
            };
            arena.push_str(item);
            ends.push(end);
        }
        Self {
            arena: arena.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        let end = *self.ends.get(i)?;
        self.arena.get(start as usize..end as usize)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The index of `item`, by binary search.
    pub(super) fn position(&self, item: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid)?.cmp(item) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// The route of one DID.
#[derive(Debug, Clone, Copy)]
pub(super) enum Route {
    /// No route configured.
    Missing,
    /// Calls to the DID are refused.
    Refused,
    To(Number),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_36_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 36);
        assert_eq!(std::mem::size_of::<Route>(), 6);
    }

    #[test]
    fn padded_numbers_sort_like_strings() {
        let all = [
            "10", "100", "1000", "10000", "101", "11", "19", "2", "20", "99", "99999", "9",
        ];
        for a in all {
            for b in all {
                let (x, y) = (Number::new(a).unwrap(), Number::new(b).unwrap());
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} vs {b}");
                assert_eq!(x.as_str(), a);
            }
        }
    }

    #[test]
    fn hex_round_trips() {
        let hex = "0123456789abcdeffedcba9876543210";
        assert_eq!(Hex32::encode(&decode_hex16(hex).unwrap()).as_str(), hex);
        for bad in [
            "0123456789ABCDEFfedcba9876543210",
            "0123",
            "0123456789abcdeffedcba987654321g",
        ] {
            assert!(decode_hex16(bad).is_none(), "{bad}");
        }
    }
}
