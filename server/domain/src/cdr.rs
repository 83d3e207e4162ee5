//! A call record: one call as LittlePBX keeps it, whatever FreeSWITCH sent about it.

/// The longest call UUID kept (FreeSWITCH's are 36 characters).
pub const CALL_UUID_MAX: usize = 64;

/// Where a call went, from the org's point of view. Stored as 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CdrDirection {
    /// From the outside to one of the org's numbers.
    In,
    /// From an extension to the outside.
    Out,
    /// Between extensions, or to a feature code.
    Internal,
}

impl CdrDirection {
    pub fn code(self) -> i64 {
        match self {
            CdrDirection::In => 1,
            CdrDirection::Out => 2,
            CdrDirection::Internal => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(CdrDirection::In),
            2 => Some(CdrDirection::Out),
            3 => Some(CdrDirection::Internal),
            _ => None,
        }
    }
}

/// One call as decoded from FreeSWITCH's record and stored (the store cuts the texts to its
/// column sizes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCdr {
    pub call_uuid: String,
    pub start_ms: i64,
    pub answer_ms: Option<i64>,
    pub end_ms: i64,
    pub duration_s: u32,
    pub billsec: u32,
    pub direction: CdrDirection,
    pub answered: bool,
    pub extension: Option<String>,
    pub did: Option<String>,
    pub other_party: Option<String>,
    pub hangup_cause: String,
}
