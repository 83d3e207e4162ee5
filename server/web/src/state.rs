//! What every request handler can reach: the engine, and what only HTTP needs.

use std::ops::Deref;
use std::sync::Arc;

use engine::Engine;

use crate::auth::LoginLimiter;

/// Shared, cheaply cloned state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    engine: Engine,
    login_limiter: Arc<LoginLimiter>,
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        let login_limiter = LoginLimiter::new(engine.config().web.login_attempts);
        Self {
            engine,
            login_limiter,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.login_limiter
    }
}

/// Handlers reach the engine's parts directly (`state.store()`, `state.config()`...): the web
/// layer adds to the engine and hides nothing of it.
impl Deref for AppState {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}
