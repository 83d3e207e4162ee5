//! A client of the provider API (`/api/v1`) for tests: one key, every answer kept so a test can
//! check that no secret was ever sent back.

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::common::TestApp;

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub key: Option<String>,
    transcript: Arc<Mutex<String>>,
}

/// One answer: status, headers, the body as text and (when it is JSON) parsed.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem document with this status, and returns its detail.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{}", self.text);
        self.json["detail"].as_str().expect("detail")
    }

    /// The `field`s of a 422 problem.
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<String> {
        self.problem(422);
        self.json["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_owned())
            .collect()
    }
}

impl Api {
    pub fn new(app: &TestApp, key: Option<&str>) -> Self {
        Self {
            http: app.http.clone(),
            base: format!("{}/api/v1", app.base),
            key: key.map(str::to_owned),
            transcript: Arc::default(),
        }
    }

    /// Another key, the same transcript.
    pub fn with_key(&self, key: &str) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            key: Some(key.to_owned()),
            transcript: self.transcript.clone(),
        }
    }

    /// Every status line, header and body received so far.
    pub fn transcript(&self) -> String {
        self.transcript.lock().unwrap().clone()
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        {
            let mut transcript = self.transcript.lock().unwrap();
            transcript.push_str(&format!("{status} {headers:?}\n{text}\n"));
        }
        Answer {
            status,
            headers,
            text,
            json,
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn json(&self, method: Method, path: &str, body: Value) -> Answer {
        self.send(self.request(method, path).json(&body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.json(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.json(Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.json(Method::PATCH, path, body).await
    }

    /// A raw body with this Content-Type (none when empty).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.request(method, path).body(body);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        self.send(request).await
    }

    /// Creates an org through the API; panics unless it worked.
    pub async fn create_org(&self, slug: &str) -> Value {
        let answer = self
            .post(
                "/orgs",
                serde_json::json!({"slug": slug, "name": format!("{slug} Inc.")}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.json
    }
}

/// A new provider-wide key.
pub async fn provider_key(app: &TestApp) -> String {
    engine::services::create_api_key(&app.state, "tests", None)
        .await
        .expect("key")
        .key
}

/// A new key limited to `slug`.
pub async fn org_key(app: &TestApp, slug: &str) -> String {
    engine::services::create_api_key(&app.state, &format!("{slug} only"), Some(slug))
        .await
        .expect("key")
        .key
}

/// A PNG signature and header (all `imagesize` reads) claiming `width`×`height`.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
    png.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    png
}

pub const SVG_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#0b5cad"/><text x="8" y="26" fill="#fff">Acme</text></svg>"##;

/// Waits until the peer was sent every `wanted` API command; returns all it was sent.
pub async fn told(peer: &esl::testpeer::TestPeer, wanted: &[&str]) -> Vec<String> {
    for _ in 0..200 {
        let commands = peer.api_commands();
        if wanted.iter().all(|w| commands.iter().any(|c| c == w)) {
            return commands;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "FreeSWITCH was not sent {wanted:?}: {:?}",
        peer.api_commands()
    );
}

/// Waits until every queued FreeSWITCH command was delivered.
pub async fn delivered(app: &TestApp) {
    for _ in 0..200 {
        if app
            .state
            .store()
            .pending_fs_commands(1)
            .await
            .unwrap()
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("queued FreeSWITCH commands were not delivered");
}
