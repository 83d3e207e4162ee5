//! The handle to everything the operations and the background work reach.

use std::sync::Arc;

use store::freeswitch_db::FreeSwitchDb;
use store::Store;

use crate::config::Config;
use crate::database::DatabaseWatch;
use crate::fs_socket::FreeSwitch;
use crate::secrets::SecretBox;
use crate::sip_guard::SipGuard;
use crate::xml_cache::XmlCache;

/// Shared, cheaply cloned: the configuration, the store, FreeSWITCH and the in-memory caches.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    secret_box: SecretBox,
    freeswitch: Arc<FreeSwitch>,
    freeswitch_db: Option<FreeSwitchDb>,
    jobs_wakeup: tokio::sync::Notify,
    fs_settings: freeswitch::Settings,
    xml_cache: Arc<XmlCache>,
    sip_guard: Arc<SipGuard>,
    database: DatabaseWatch,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl Engine {
    pub fn new(
        config: Config,
        store: Store,
        secret_box: SecretBox,
        freeswitch: Arc<FreeSwitch>,
        freeswitch_db: Option<FreeSwitchDb>,
    ) -> Self {
        let fs_settings = crate::config::freeswitch_settings(&config);
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                secret_box,
                freeswitch,
                freeswitch_db,
                jobs_wakeup: tokio::sync::Notify::new(),
                fs_settings,
                xml_cache: Arc::default(),
                sip_guard: Arc::default(),
                database: DatabaseWatch::default(),
                shutdown: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn secret_box(&self) -> &SecretBox {
        &self.inner.secret_box
    }

    /// Wakes the Apply job engine (a job was created).
    pub fn jobs_wakeup(&self) {
        self.inner.jobs_wakeup.notify_one();
    }

    /// Resolves when [`Self::jobs_wakeup`] is called.
    pub async fn jobs_notified(&self) {
        self.inner.jobs_wakeup.notified().await;
    }

    /// The event socket to FreeSWITCH.
    pub fn freeswitch(&self) -> &Arc<FreeSwitch> {
        &self.inner.freeswitch
    }

    /// FreeSWITCH's own database, when it keeps it on MariaDB/MySQL and LittlePBX may read it.
    pub fn freeswitch_db(&self) -> Option<&FreeSwitchDb> {
        self.inner.freeswitch_db.as_ref()
    }

    /// How FreeSWITCH XML is rendered (validated at start-up).
    pub fn fs_settings(&self) -> &freeswitch::Settings {
        &self.inner.fs_settings
    }

    /// The applied snapshots FreeSWITCH is answered from.
    pub fn xml_cache(&self) -> &Arc<XmlCache> {
        &self.inner.xml_cache
    }

    pub fn sip_guard(&self) -> &Arc<SipGuard> {
        &self.inner.sip_guard
    }

    /// Whether the configuration database answers (see `crate::database`).
    pub fn database(&self) -> &DatabaseWatch {
        &self.inner.database
    }

    /// Asks the background work to stop after the step under way (SIGTERM).
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Resolves once [`Self::begin_shutdown`] was called.
    pub async fn shutting_down(&self) {
        let _ = self.inner.shutdown.subscribe().wait_for(|stop| *stop).await;
    }
}
