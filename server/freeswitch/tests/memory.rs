//! Heap footprint of an `OrgView`: the server keeps one per org in memory, and 10,000 orgs of
//! 100 extensions (one million extensions) must fit with the whole server under 300 MB.
//!
//! Its own test binary, because it installs a counting global allocator: every byte allocated
//! on this thread minus every byte freed. Building the input and the view inside the measured
//! span and keeping only the (boxed) view measures exactly what the view retains, since
//! `OrgView::new` consumes its input and frees what it does not keep.
//!
//! Run with `--nocapture` to see the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use domain::trunk::{Cidr, SipHost, SipUser, Transport, TrunkConfig, TrunkRole, TrunkSettings};
use domain::{
    CallFlow, CompanyName, DidRoute, DisplayName, Email, Extension, ExtensionNumber,
    ExternalNumber, NoAnswer, OrgConfig, OrgOptions, OrgSlug, OrgStatus, SipDomain, VoicemailPin,
    E164,
};
use freeswitch::{OrgInput, OrgView, ProviderLimits, TrunkInput};

thread_local! {
    /// Bytes allocated minus bytes freed by this thread. Const-initialised and without a
    /// destructor, so reading it never allocates.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add_live(delta: isize) {
    // `try_with`: never fail inside the allocator, even while a thread is being torn down.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// `System`, counting. Per thread, so the test harness's own threads do not disturb the
/// figures. (`realloc` and `alloc_zeroed` keep their default implementations, which go
/// through `alloc` and `dealloc` and are therefore counted.)
struct Counting;

// SAFETY: forwards every call unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the only addition is updating a thread-local counter, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's (`layout` has a non-zero size).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add_live(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `System` (through `alloc` above) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FIRST: &[&str] = &[
    "Ann",
    "Robert",
    "Maria",
    "Li",
    "Alexandra",
    "José",
    "Fatima",
    "Tom",
    "Ingrid",
    "Kwame",
];
const LAST: &[&str] = &[
    "Example",
    "Smith",
    "García",
    "Nguyen",
    "Whitfield",
    "Okafor",
    "Müller",
    "Lee",
    "Johansson",
    "Rossi",
];

/// How many of the optional fields an extension fills.
#[derive(Clone, Copy)]
enum Fill {
    /// A plausible office: half the extensions mail their voicemail, a quarter have their own
    /// caller ID, the no-answer actions vary.
    Typical,
    /// Every optional field set, forwards to outside numbers of 12 digits.
    Everything,
}

fn extension(i: u32, domain: &SipDomain, fill: Fill) -> Extension {
    let number = (1000 + i).to_string();
    let name = format!(
        "{} {}",
        FIRST[i as usize % FIRST.len()],
        LAST[(i as usize / FIRST.len()) % LAST.len()]
    );
    let all = matches!(fill, Fill::Everything);
    let no_answer = match (fill, i % 4) {
        (Fill::Everything, _) | (_, 3) => {
            NoAnswer::ForwardExternal(ExternalNumber::parse(&format!("+4930{:07}", i)).unwrap())
        }
        (_, 0 | 1) => NoAnswer::Voicemail,
        (_, 2) => NoAnswer::ForwardExtension(ExtensionNumber::parse("1000").unwrap()),
        _ => NoAnswer::Hangup,
    };
    let ext = testkit::fixtures::extension(&number, domain.as_str(), "a password");
    Extension {
        display_name: DisplayName::parse(&name).unwrap(),
        voicemail_enabled: !i.is_multiple_of(5),
        voicemail_pin: VoicemailPin::parse(&format!("{:04}", i % 10_000)).unwrap(),
        voicemail_email: (all || i.is_multiple_of(2)).then(|| {
            Email::parse(&format!(
                "{}.{}@example.com",
                FIRST[i as usize % FIRST.len()].to_lowercase(),
                i
            ))
            .unwrap_or_else(|_| Email::parse(&format!("user{i}@example.com")).unwrap())
        }),
        call_flow: CallFlow {
            no_answer,
            ..ext.call_flow
        },
        do_not_disturb: i.is_multiple_of(7),
        outbound_caller_id: (all || i.is_multiple_of(4)).then(|| did(i % 20)),
        ..ext
    }
}

fn did(i: u32) -> E164 {
    E164::parse(&format!("+1555010{:04}", i)).unwrap()
}

/// An org with `extensions` extensions, `dids` DIDs (each routed to an extension), a trunk
/// and music.
fn input(extensions: u32, dids: u32, fill: Fill) -> OrgInput {
    let domain = SipDomain::parse("pbx.acme-industries.example.com").unwrap();
    let trunk = TrunkSettings {
        username: SipUser::parse("acct1234").unwrap(),
        auth_username: None,
        host: SipHost::parse("sip.carrier.example").unwrap(),
        proxy: None,
        port: 5060,
        transport: Transport::Udp,
        register: true,
        realm: None,
        from_user: None,
        from_domain: None,
        caller_id_in_from: false,
        expire_seconds: 3600,
        allowed_cidrs: vec![Cidr::parse("203.0.113.0/24").unwrap()],
    };
    OrgInput {
        slug: OrgSlug::parse("acme-industries").unwrap(),
        company: CompanyName::parse("Acme Industries Ltd.").unwrap(),
        status: OrgStatus::Active,
        limits: ProviderLimits {
            max_outbound_calls: 10,
            calls_per_second: 2,
        },
        config: OrgConfig {
            extensions: (0..extensions)
                .map(|i| extension(i, &domain, fill))
                .collect(),
            did_routes: (0..dids)
                .map(|i| DidRoute {
                    did: did(i),
                    extension: (!i.is_multiple_of(3))
                        .then(|| ExtensionNumber::parse(&(1000 + i % 100).to_string()).unwrap()),
                })
                .collect(),
            options: OrgOptions {
                default_caller_id: Some(did(0)),
                ..OrgOptions::default()
            },
        },
        domain,
        dids: (0..dids).map(did).collect(),
        trunks: vec![TrunkInput {
            role: TrunkRole::Inbound,
            config: TrunkConfig::Own(trunk),
            password: Some("carrier secret".into()),
        }],
        moh_dir: Some("/var/lib/littlepbx/moh/acme-industries".into()),
    }
}

/// Heap bytes a view built from `build()` keeps, the view itself included (boxed, as the
/// server keeps it behind an `Arc`).
fn retained(build: impl FnOnce() -> OrgInput) -> (usize, Box<OrgView>) {
    let before = live();
    let view = Box::new(OrgView::new(build()));
    let after = live();
    (usize::try_from(after - before).unwrap(), view)
}

/// Per-extension budget: 1,000,000 extensions in 80 MB.
const MAX_BYTES_PER_EXTENSION: usize = 80;
/// With every optional field set (long e-mail, own caller ID, outside forward).
const MAX_BYTES_PER_FULL_EXTENSION: usize = 128;
const MAX_BYTES_PER_DID: usize = 40;

#[test]
fn views_stay_small() {
    const N: u32 = 1_000;
    const DIDS: u32 = 20;
    let (empty, _empty_view) = retained(|| input(0, DIDS, Fill::Typical));
    let (typical, view) = retained(|| input(N, DIDS, Fill::Typical));
    let (full, _full_view) = retained(|| input(N, DIDS, Fill::Everything));
    // The view is usable: the figures are not those of something half built.
    assert!(view.extension("1500").is_some());
    assert!(view.extension("2000").is_none());
    let (many_dids, _did_view) = retained(|| input(0, N + DIDS, Fill::Typical));

    let per_ext = (typical - empty) / N as usize;
    let per_full = (full - empty) / N as usize;
    let per_did = (many_dids - empty) / N as usize;
    println!(
        "OrgView inline size: {} bytes",
        std::mem::size_of::<OrgView>()
    );
    println!("org without extensions ({DIDS} DIDs, one trunk, music): {empty} bytes");
    println!(
        "{N} typical extensions: {typical} bytes in all, {per_ext} bytes per extension \
         ({} with the org's share)",
        typical / N as usize
    );
    println!("{N} extensions with every field set: {per_full} bytes per extension");
    println!("{N} more DIDs: {per_did} bytes per DID");
    assert!(
        per_ext <= MAX_BYTES_PER_EXTENSION,
        "{per_ext} bytes per extension, budget {MAX_BYTES_PER_EXTENSION}"
    );
    assert!(
        per_full <= MAX_BYTES_PER_FULL_EXTENSION,
        "{per_full} bytes per full extension, budget {MAX_BYTES_PER_FULL_EXTENSION}"
    );
    assert!(
        per_did <= MAX_BYTES_PER_DID,
        "{per_did} bytes per DID, budget {MAX_BYTES_PER_DID}"
    );
}
