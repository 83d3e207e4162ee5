//! A fake directory of two orgs and a server on 127.0.0.1 serving it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ldap_phonebook::{serve, BindDn, Directory, Entry, Limits};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ACME_BOOK_PASSWORD: &str = "acme book pw";
pub const GLOBEX_BOOK_PASSWORD: &str = "globex-book-pw";
/// Extension 101 of acme.
pub const ACME_101_PASSWORD: &str = "s3cret-101";

/// Two orgs, `acme` and `globex`, each with a phone book password; acme's extension 101 has
/// its own password. Records every bind it is asked to check.
#[derive(Default)]
pub struct FakeDirectory {
    pub binds: Mutex<Vec<(BindDn, SocketAddr)>>,
    books: HashMap<&'static str, Arc<Vec<Entry>>>,
}

fn book(entries: &[(&str, &str)]) -> Arc<Vec<Entry>> {
    Arc::new(
        entries
            .iter()
            .map(|(number, name)| Entry {
                number: (*number).into(),
                display_name: (*name).into(),
            })
            .collect(),
    )
}

impl FakeDirectory {
    pub fn new() -> FakeDirectory {
        let mut books = HashMap::new();
        books.insert(
            "acme",
            book(&[
                ("101", "Ann Smith"),
                ("102", "Bob Annan"),
                ("103", "Zoë O'Brien"),
                ("110", "Reception"),
                ("201", "Mary Ann Jones"),
            ]),
        );
        books.insert(
            "globex",
            book(&[("101", "Hank Scorpio"), ("102", "Frank Grimes")]),
        );
        FakeDirectory {
            binds: Mutex::new(Vec::new()),
            books,
        }
    }

    /// The DNs whose binds were checked, in order.
    pub fn bind_dns(&self) -> Vec<String> {
        self.binds
            .lock()
            .unwrap()
            .iter()
            .map(|(dn, _)| dn.to_string())
            .collect()
    }
}

impl Directory for FakeDirectory {
    async fn bind(&self, dn: &BindDn, password: &str, peer: SocketAddr) -> Option<String> {
        self.binds.lock().unwrap().push((dn.clone(), peer));
        let ok = match dn {
            BindDn::Phonebook { org } if org == "acme" => password == ACME_BOOK_PASSWORD,
            BindDn::Phonebook { org } if org == "globex" => password == GLOBEX_BOOK_PASSWORD,
            BindDn::Extension { org, number } if org == "acme" && number == "101" => {
                password == ACME_101_PASSWORD
            }
            _ => false,
        };
        ok.then(|| dn.org().to_owned())
    }

    fn entries(&self, org: &str) -> Option<Arc<Vec<Entry>>> {
        self.books.get(org).cloned()
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub directory: Arc<FakeDirectory>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://{}", self.addr)
    }

    /// Shuts the server down and waits for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap()
    }
}

/// Starts a server with the fake directory on 127.0.0.1 and a free port.
pub async fn start(limits: Limits) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let directory = Arc::new(FakeDirectory::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        listener,
        Arc::clone(&directory),
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        directory,
        stop: Some(stop),
        task,
    }
}

pub async fn start_default() -> Server {
    start(Limits::default()).await
}
