//! What every request handler can reach.

use std::sync::Arc;

use store::Store;

use crate::config::Config;
use crate::freeswitch::FreeSwitch;
use crate::secrets::SecretBox;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Store,
    secret_box: SecretBox,
    freeswitch: Arc<FreeSwitch>,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Store,
        secret_box: SecretBox,
        freeswitch: Arc<FreeSwitch>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                secret_box,
                freeswitch,
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

    /// The event socket to FreeSWITCH.
    pub fn freeswitch(&self) -> &Arc<FreeSwitch> {
        &self.inner.freeswitch
    }
}
