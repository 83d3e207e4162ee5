//! The in-memory index FreeSWITCH's lookups are answered from: one `freeswitch::OrgView` per org,
//! built from the org's **applied** snapshot, indexed by SIP domain, slug and DID.
//!
//! The hot path (`POST /fs/xml`) takes an `Arc` of the current index and never touches the
//! database. A refresher keeps the index current: every instance polls the global XML epoch
//! (one tiny query) and, when it moved, compares every org's `xml_version` and rebuilds only the
//! orgs that changed, so a change made through another instance is served within a second.
//! Updates are copy-on-write: the maps of `Arc<OrgView>` are cloned (cheap: pointers), the
//! changed views replaced, and the new index swapped in; requests in flight keep the old one.
//!
//! After every change the snapshots the index was built from are written to the local snapshot
//! file (`crate::snapshot_file`). At start-up the server serves that file at once when the
//! database is down, or when the database's epoch is the file's (a restart then reads only
//! what changed); a file older than the database is never served.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use freeswitch::{Lookup, OrgInput, OrgView, ProviderLimits, TrunkInput};
use store::snapshot::AppliedSnapshot;
use store::telephony::StoredTrunk;
use store::OrgId;
use tokio::sync::{watch, Notify};

use crate::config::Config;
use crate::secrets::SecretBox;
use crate::snapshot_file::{SnapshotError, SnapshotFile};
use crate::Engine;
use media::moh_files;

/// Where the index being served came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing loaded yet: `/fs/xml` waits, then refuses.
    Loading = 0,
    /// The local snapshot file; the database has not been read since start-up.
    Snapshot = 1,
    /// The database.
    Database = 2,
}

/// One consistent set of views.
#[derive(Default)]
pub struct Index {
    by_slug: BTreeMap<String, Arc<OrgView>>,
    by_domain: HashMap<String, Arc<OrgView>>,
    by_did: HashMap<String, Arc<OrgView>>,
    /// The `xml_version` each view was built from.
    versions: HashMap<OrgId, (i64, String)>,
}

impl Lookup for Index {
    fn by_domain(&self, domain: &str) -> Option<&OrgView> {
        self.by_domain.get(domain).map(|v| &**v)
    }
    fn by_slug(&self, slug: &str) -> Option<&OrgView> {
        self.by_slug.get(slug).map(|v| &**v)
    }
    fn by_did(&self, did: &str) -> Option<&OrgView> {
        self.by_did.get(did).map(|v| &**v)
    }
    fn orgs(&self) -> impl Iterator<Item = &OrgView> {
        self.by_slug.values().map(|v| &**v)
    }
}

impl Index {
    pub fn len(&self) -> usize {
        self.by_slug.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }

    fn insert(&mut self, org: OrgId, version: i64, view: Arc<OrgView>) {
        self.remove(org);
        let slug = view.slug().to_string();
        self.by_domain
            .insert(view.domain().to_string(), view.clone());
        for did in view.dids() {
            self.by_did.insert(did.to_owned(), view.clone());
        }
        self.by_slug.insert(slug.clone(), view);
        self.versions.insert(org, (version, slug));
    }

    fn remove(&mut self, org: OrgId) {
        let Some((_, slug)) = self.versions.remove(&org) else {
            return;
        };
        if let Some(view) = self.by_slug.remove(&slug) {
            self.by_domain.remove(view.domain().as_str());
            for did in view.dids() {
                self.by_did.remove(did);
            }
        }
    }
}

/// The current index and what keeps it current.
pub struct XmlCache {
    current: RwLock<Arc<Index>>,
    epoch: std::sync::atomic::AtomicI64,
    /// This instance's name in the `instances` table (random, new at every start).
    instance_id: String,
    /// True once the first full load finished; `/fs/xml` waits for it.
    ready: watch::Sender<bool>,
    changed: Notify,
    source: AtomicU8,
    /// Changes the snapshot file has yet to take in (see `write_snapshot_changes`).
    snapshot_queue: std::sync::Mutex<Vec<SnapshotChanges>>,
    snapshot_queued: Notify,
}

impl Default for XmlCache {
    fn default() -> Self {
        Self {
            current: RwLock::new(Arc::new(Index::default())),
            epoch: std::sync::atomic::AtomicI64::new(-1),
            instance_id: crate::secrets::random_token(16),
            ready: watch::channel(false).0,
            changed: Notify::new(),
            source: AtomicU8::new(Source::Loading as u8),
            snapshot_queue: Default::default(),
            snapshot_queued: Notify::new(),
        }
    }
}

impl XmlCache {
    /// The index to answer one request from.
    pub fn current(&self) -> Arc<Index> {
        self.current
            .read()
            .map(|index| index.clone())
            .unwrap_or_default()
    }

    /// Waits (at most `timeout`) until the first full load is done.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut ready = self.ready.subscribe();
        tokio::time::timeout(timeout, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The XML epoch the current index was loaded at (-1 before the first load).
    pub fn served_epoch(&self) -> i64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn source(&self) -> Source {
        match self.source.load(Ordering::SeqCst) {
            1 => Source::Snapshot,
            2 => Source::Database,
            _ => Source::Loading,
        }
    }

    /// Serves the local snapshot file (read whole and checked first; blocking) until the
    /// database answers.
    pub fn serve_snapshot(
        &self,
        config: &Config,
        secret_box: &SecretBox,
        file: &SnapshotFile,
    ) -> Result<(), SnapshotError> {
        let mut index = Index::default();
        let written = file.read(|snapshot| {
            let (org, version) = (snapshot.org.id, snapshot.org.xml_version);
            index.insert(
                org,
                version,
                Arc::new(build_view(config, secret_box, snapshot)),
            );
        })?;
        tracing::info!(
            orgs = index.len(),
            epoch = written.epoch,
            written_at_ms = written.written_at_ms,
            "FreeSWITCH is served from the snapshot file until the database answers"
        );
        self.swap(index);
        self.serving(written.epoch, Source::Snapshot);
        Ok(())
    }

    fn serving(&self, epoch: i64, source: Source) {
        self.epoch.store(epoch, Ordering::SeqCst);
        self.source.store(source as u8, Ordering::SeqCst);
        self.ready.send_replace(true);
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Asks the refresher to look for changes now (after a change made by this instance).
    pub fn invalidate(&self) {
        self.changed.notify_one();
    }

    fn queue_snapshot_changes(&self, changes: SnapshotChanges) {
        if let Ok(mut queue) = self.snapshot_queue.lock() {
            queue.push(changes);
        }
        self.snapshot_queued.notify_one();
    }

    fn swap(&self, index: Index) {
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(index);
        }
    }
}

/// Trunks as the `freeswitch` crate takes them, passwords decrypted. A password that cannot be decrypted (the
/// secret key changed) counts as missing; the cause is logged without the secret.
pub fn trunk_inputs(secret_box: &SecretBox, trunks: Vec<StoredTrunk>) -> Vec<TrunkInput> {
    trunks
        .into_iter()
        .map(|trunk| TrunkInput {
            password: trunk.password_enc.as_deref().and_then(|sealed| match secret_box.open(sealed) {
                Ok(password) => Some(password),
                Err(err) => {
                    tracing::error!(error = %err, role = trunk.role.as_str(), "cannot decrypt a trunk password");
                    None
                }
            }),
            role: trunk.role,
            config: trunk.config,
        })
        .collect()
}

/// Builds an org's view from its applied snapshot. The one place the view's inputs are put
/// together (the cache and the provider API's FreeSWITCH commands both use it).
pub fn build_view(config: &Config, secret_box: &SecretBox, snapshot: AppliedSnapshot) -> OrgView {
    let AppliedSnapshot {
        org,
        config: applied,
        dids,
        trunks,
    } = snapshot;
    let moh_dir = applied
        .options
        .moh_file
        .as_ref()
        .filter(|_| freeswitch::org_has_music(&applied.options))
        .map(|file| {
            moh_files::recording_dir(&config.moh_dir_for_freeswitch(), &org.slug, file)
                .display()
                .to_string()
        });
    OrgView::new(OrgInput {
        trunks: trunk_inputs(secret_box, trunks),
        slug: org.slug,
        domain: org.sip_domain,
        company: org.name,
        status: org.status,
        limits: ProviderLimits {
            max_outbound_calls: org.limits.max_outbound_calls,
            calls_per_second: org.limits.max_calls_per_second,
        },
        config: applied,
        dids,
        moh_dir,
    })
}

/// Loads every org, then keeps the index current. Runs forever.
///
/// The instance announces itself before loading (served epoch -1), so that no FreeSWITCH command
/// queued during the load is sent before this instance serves it, and then reports the epoch it
/// serves whenever it moves and at least every [`REPORT_EVERY`].
pub async fn run_refresher(state: Engine) {
    let cache = state.xml_cache().clone();
    tokio::spawn(write_snapshot_changes(state.clone()));
    let mut last_report = None;
    while cache.source() == Source::Loading {
        report(&state, &mut last_report).await;
        match full_load(&state).await {
            Ok(()) => break,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "loading the FreeSWITCH configuration cache; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
    let poll = Duration::from_millis(state.config().xml_cache_poll_ms);
    loop {
        report(&state, &mut last_report).await;
        let _ = tokio::time::timeout(poll, cache.changed.notified()).await;
        if let Err(err) = refresh(&state).await {
            tracing::warn!(error = %format!("{err:#}"), "refreshing the FreeSWITCH configuration cache");
        }
    }
}

/// How often an instance reports the epoch it serves when nothing changes (its heartbeat); well
/// inside `store::instances::LIVENESS_MS`.
const REPORT_EVERY: Duration = Duration::from_secs(2);

/// Reports the served epoch when it moved since the last report or the last report is old.
async fn report(state: &Engine, last: &mut Option<(i64, std::time::Instant)>) {
    let cache = state.xml_cache();
    let epoch = cache.served_epoch();
    if last.is_some_and(|(reported, at)| reported == epoch && at.elapsed() < REPORT_EVERY) {
        return;
    }
    match state
        .store()
        .report_instance(cache.instance_id(), epoch)
        .await
    {
        Ok(()) => *last = Some((epoch, std::time::Instant::now())),
        Err(err) => tracing::warn!(error = %err, "reporting the served configuration epoch"),
    }
}

/// Orgs read per round at start-up: bounds the rows held at once. Small pages matter for the
/// resident size, not only the peak: the rows of a page are freed while the views built from
/// them stay, and the allocator keeps pages that hold both. With 10,000 orgs x 100 extensions
/// (scripts/bench-fsxml.sh) pages of 500 left 320-470 MiB resident, pages of 50 160-190 MiB,
/// with the same load time (about 6 s).
const LOAD_PAGE_ORGS: u64 = 50;

/// The snapshot file of this server's data directory and database.
pub fn snapshot_file(config: &Config) -> SnapshotFile {
    SnapshotFile::new(&config.data_dir, config.effective_database_url().as_str())
}

async fn full_load(state: &Engine) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let epoch = state.store().xml_epoch().await?;
    let mut file = start_snapshot_file(state, epoch);
    let mut index = Index::default();
    let mut after = None;
    while let Some(snapshots) = next_page(state, &mut after).await? {
        let (config, secret_box) = (state.config().clone(), state.secret_box().clone());
        // Views and file lines on a blocking thread: both are CPU and file work.
        (index, file) = tokio::task::spawn_blocking(move || {
            for snapshot in snapshots {
                add_to_snapshot_file(&mut file, &snapshot);
                let (org, version) = (snapshot.org.id, snapshot.org.xml_version);
                index.insert(
                    org,
                    version,
                    Arc::new(build_view(&config, &secret_box, snapshot)),
                );
            }
            (index, file)
        })
        .await?;
    }
    let cache = state.xml_cache();
    tracing::info!(orgs = index.len(), elapsed = ?started.elapsed(), "FreeSWITCH configuration cache loaded");
    cache.swap(index);
    cache.serving(epoch, Source::Database);
    if let Some(writer) = file {
        commit_snapshot_file(writer).await;
    }
    Ok(())
}

/// The next page of every org's applied snapshot after `after` (which moves past it); `None`
/// once every org was read.
async fn next_page(
    state: &Engine,
    after: &mut Option<OrgId>,
) -> anyhow::Result<Option<Vec<AppliedSnapshot>>> {
    let page = state
        .store()
        .applied_snapshots_page(*after, LOAD_PAGE_ORGS)
        .await?;
    *after = page.last().map(|s| s.org.id);
    Ok((!page.is_empty()).then_some(page))
}

/// A new snapshot file, or `None` (logged) when it cannot be written: serving goes on.
fn start_snapshot_file(state: &Engine, epoch: i64) -> Option<crate::snapshot_file::Writer> {
    snapshot_file(state.config())
        .writer(epoch)
        .map_err(|err| tracing::error!(error = %err, "cannot write the snapshot file"))
        .ok()
}

fn add_to_snapshot_file(
    file: &mut Option<crate::snapshot_file::Writer>,
    snapshot: &AppliedSnapshot,
) {
    if let Some(writer) = file.as_mut() {
        if let Err(err) = writer.add(snapshot) {
            tracing::error!(error = %err, "cannot write the snapshot file");
            *file = None;
        }
    }
}

async fn commit_snapshot_file(writer: crate::snapshot_file::Writer) {
    match tokio::task::spawn_blocking(move || writer.commit()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(error = %err, "cannot write the snapshot file"),
        Err(err) => tracing::error!(error = %err, "writing the snapshot file"),
    }
}

/// Writes the snapshot file anew from the database (when updating it in place failed).
async fn rewrite_snapshot_file(state: &Engine, epoch: i64) -> anyhow::Result<()> {
    let mut file = start_snapshot_file(state, epoch);
    let mut after = None;
    while let Some(snapshots) = next_page(state, &mut after).await? {
        file = tokio::task::spawn_blocking(move || {
            for snapshot in &snapshots {
                add_to_snapshot_file(&mut file, snapshot);
            }
            file
        })
        .await?;
    }
    if let Some(writer) = file {
        commit_snapshot_file(writer).await;
    }
    Ok(())
}

/// Rebuilds the views of the orgs whose `xml_version` moved since they were built.
pub async fn refresh(state: &Engine) -> anyhow::Result<()> {
    let cache = state.xml_cache();
    let epoch = state.store().xml_epoch().await?;
    let previous_epoch = cache.served_epoch();
    if epoch == previous_epoch {
        cache.source.store(Source::Database as u8, Ordering::SeqCst);
        return Ok(());
    }
    let current = cache.current();
    let versions = state.store().xml_versions().await?;
    let mut next: Option<Index> = None;
    let mut seen = std::collections::HashSet::new();
    let mut changed = Vec::new();
    for (org, version) in versions {
        seen.insert(org);
        if current
            .versions
            .get(&org)
            .is_some_and(|(known, _)| *known == version)
        {
            continue;
        }
        let snapshot = match state.store().applied_snapshot(org).await {
            Ok(snapshot) => snapshot,
            Err(store::StoreError::NotFound(_)) => continue,
            Err(err) => return Err(err.into()),
        };
        let version = snapshot.org.xml_version;
        changed.push(snapshot.clone());
        let view = build_view(state.config(), state.secret_box(), snapshot);
        next.get_or_insert_with(|| clone_index(&current))
            .insert(org, version, Arc::new(view));
    }
    let removed: Vec<OrgId> = current
        .versions
        .keys()
        .filter(|org| !seen.contains(org))
        .copied()
        .collect();
    for org in &removed {
        next.get_or_insert_with(|| clone_index(&current))
            .remove(*org);
    }
    if let Some(index) = next {
        tracing::debug!(orgs = index.len(), "FreeSWITCH configuration cache updated");
        cache.swap(index);
    }
    cache.serving(epoch, Source::Database);
    cache.queue_snapshot_changes(SnapshotChanges {
        previous_epoch,
        epoch,
        changed,
        removed,
    });
    Ok(())
}

/// What the snapshot file must take in to move from `previous_epoch` to `epoch`.
struct SnapshotChanges {
    previous_epoch: i64,
    epoch: i64,
    changed: Vec<AppliedSnapshot>,
    removed: Vec<OrgId>,
}

impl SnapshotChanges {
    /// One set of changes doing what `batches` (in order) do one after the other.
    fn merge(batches: Vec<SnapshotChanges>) -> Option<SnapshotChanges> {
        let previous_epoch = batches.first()?.previous_epoch;
        let epoch = batches.last()?.epoch;
        let mut changed = BTreeMap::new();
        let mut removed = std::collections::BTreeSet::new();
        for batch in batches {
            for snapshot in batch.changed {
                removed.remove(&snapshot.org.id);
                changed.insert(snapshot.org.id, snapshot);
            }
            for org in batch.removed {
                changed.remove(&org);
                removed.insert(org);
            }
        }
        Some(SnapshotChanges {
            previous_epoch,
            epoch,
            changed: changed.into_values().collect(),
            removed: removed.into_iter().collect(),
        })
    }
}

/// Writes the snapshot file after each change, off the refresher's path: changes that queue up
/// while a write runs (a large file takes a while) are merged into the next write. Runs forever.
async fn write_snapshot_changes(state: Engine) {
    let cache = state.xml_cache().clone();
    loop {
        cache.snapshot_queued.notified().await;
        let batches = cache
            .snapshot_queue
            .lock()
            .map(|mut queue| std::mem::take(&mut *queue))
            .unwrap_or_default();
        if let Some(changes) = SnapshotChanges::merge(batches) {
            update_snapshot_file(&state, changes).await;
        }
    }
}

/// Brings the snapshot file to `epoch`: in place when it is whole and at `previous_epoch`,
/// otherwise anew from the database.
async fn update_snapshot_file(state: &Engine, changes: SnapshotChanges) {
    let file = snapshot_file(state.config());
    let epoch = changes.epoch;
    let updated = tokio::task::spawn_blocking(move || {
        file.write_changes(
            changes.previous_epoch,
            changes.epoch,
            &changes.changed,
            &changes.removed,
        )
    })
    .await;
    if let Ok(Ok(())) = updated {
        return;
    }
    if let Ok(Err(err)) = updated {
        tracing::info!(reason = %err, "writing the snapshot file anew");
    }
    if let Err(err) = rewrite_snapshot_file(state, epoch).await {
        tracing::warn!(error = %format!("{err:#}"), "writing the snapshot file anew");
    }
}

fn clone_index(index: &Index) -> Index {
    Index {
        by_slug: index.by_slug.clone(),
        by_domain: index.by_domain.clone(),
        by_did: index.by_did.clone(),
        versions: index.versions.clone(),
    }
}

#[cfg(test)]
mod tests;
