//! How answers find orgs. The server implements [`Lookup`] over its snapshot cache;
//! [`MemoryLookup`] is a complete in-memory implementation (tests, benches, small setups).

use std::collections::HashMap;

use crate::view::OrgView;

/// Read access to the applied views of all orgs. Implementations must answer the point
/// lookups in O(1) or O(log n): they run on every REGISTER and call.
pub trait Lookup {
    /// The org whose SIP domain is exactly `domain` (lowercase, as stored).
    fn by_domain(&self, domain: &str) -> Option<&OrgView>;
    /// The org with this slug (contexts, gateways and ACL users carry slugs).
    fn by_slug(&self, slug: &str) -> Option<&OrgView>;
    /// The org owning this DID, given in E.164 form with the `+` (`+15550100100`).
    fn by_did(&self, did: &str) -> Option<&OrgView>;
    /// Every org, for the answers that list all of them (gateways, carrier ACL, music
    /// streams). A stable order (by slug) keeps those answers reproducible.
    fn orgs(&self) -> impl Iterator<Item = &OrgView>;
}

/// Two orgs claim the same domain, slug or DID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value} belongs to two orgs")]
pub struct LookupConflict {
    pub what: &'static str,
    pub value: String,
}

/// All views in memory, indexed by domain, slug and DID; orgs are kept sorted by slug.
#[derive(Debug, Default)]
pub struct MemoryLookup {
    orgs: Vec<OrgView>,
    by_domain: HashMap<String, usize>,
    by_slug: HashMap<String, usize>,
    by_did: HashMap<String, usize>,
}

impl MemoryLookup {
    /// Indexes the views; refuses duplicates (the store guarantees there are none, so a
    /// duplicate means the cache is corrupt and answering from it could cross orgs).
    pub fn new(mut orgs: Vec<OrgView>) -> Result<Self, LookupConflict> {
        orgs.sort_by(|a, b| a.slug().cmp(b.slug()));
        let mut lookup = Self {
            by_domain: HashMap::with_capacity(orgs.len()),
            by_slug: HashMap::with_capacity(orgs.len()),
            by_did: HashMap::new(),
            orgs: Vec::new(),
        };
        for (i, org) in orgs.iter().enumerate() {
            insert(&mut lookup.by_domain, "domain", org.domain().as_str(), i)?;
            insert(&mut lookup.by_slug, "slug", org.slug().as_str(), i)?;
            for did in org.dids() {
                insert(&mut lookup.by_did, "DID", did, i)?;
            }
        }
        lookup.orgs = orgs;
        Ok(lookup)
    }
}

fn insert(
    map: &mut HashMap<String, usize>,
    what: &'static str,
    key: &str,
    index: usize,
) -> Result<(), LookupConflict> {
    if map.insert(key.to_owned(), index).is_some() {
        return Err(LookupConflict {
            what,
            value: key.to_owned(),
        });
    }
    Ok(())
}

impl Lookup for MemoryLookup {
    fn by_domain(&self, domain: &str) -> Option<&OrgView> {
        self.by_domain.get(domain).and_then(|&i| self.orgs.get(i))
    }
    fn by_slug(&self, slug: &str) -> Option<&OrgView> {
        self.by_slug.get(slug).and_then(|&i| self.orgs.get(i))
    }
    fn by_did(&self, did: &str) -> Option<&OrgView> {
        self.by_did.get(did).and_then(|&i| self.orgs.get(i))
    }
    fn orgs(&self) -> impl Iterator<Item = &OrgView> {
        self.orgs.iter()
    }
}
