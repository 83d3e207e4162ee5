//! Loader for the FreeSWITCH captures in `tests/fixtures/` (copied from `shared/fixtures/esl/`;
//! format in `tests/fixtures/README.txt`) and a peer that replays their FreeSWITCH side.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `==== client -> FreeSWITCH`
    ToServer,
    /// `==== FreeSWITCH -> client`
    ToClient,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub dir: Dir,
    pub bytes: Vec<u8>,
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Parses a capture: `==== <dir> (N bytes)\n`, N raw bytes, one newline; repeated.
pub fn parse_fixture(data: &[u8]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let nl = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("block header line")
            + pos;
        let header = std::str::from_utf8(&data[pos..nl]).expect("utf-8 block header");
        let dir = if header.starts_with("==== client -> FreeSWITCH (") {
            Dir::ToServer
        } else if header.starts_with("==== FreeSWITCH -> client (") {
            Dir::ToClient
        } else {
            panic!("bad block header {header:?}");
        };
        let n: usize = header
            .rsplit_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(" bytes)"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no byte count in {header:?}"));
        let start = nl + 1;
        let end = start + n;
        assert!(end < data.len(), "block runs past the end of the file");
        assert_eq!(
            data[end], b'\n',
            "block of {n} bytes not followed by a newline"
        );
        blocks.push(Block {
            dir,
            bytes: data[start..end].to_vec(),
        });
        pos = end + 1;
    }
    blocks
}

pub fn load(name: &str) -> Vec<Block> {
    let path = fixture_path(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_fixture(&data)
}

/// All FreeSWITCH -> client bytes of a capture, concatenated.
pub fn server_bytes(blocks: &[Block]) -> Vec<u8> {
    blocks
        .iter()
        .filter(|b| b.dir == Dir::ToClient)
        .flat_map(|b| b.bytes.iter().copied())
        .collect()
}

/// Plays the FreeSWITCH side of `blocks` to the first client: writes each FreeSWITCH block as
/// captured and, for each client block, reads exactly that many bytes and checks they are the
/// captured ones. The join handle yields `Err(description)` on the first difference.
pub async fn replay_peer(blocks: Vec<Block>) -> (String, JoinHandle<Result<(), String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.map_err(|e| e.to_string())?;
        for (i, block) in blocks.iter().enumerate() {
            match block.dir {
                Dir::ToClient => sock
                    .write_all(&block.bytes)
                    .await
                    .map_err(|e| format!("block {i}: write: {e}"))?,
                Dir::ToServer => {
                    let mut got = vec![0u8; block.bytes.len()];
                    tokio::time::timeout(Duration::from_secs(5), sock.read_exact(&mut got))
                        .await
                        .map_err(|_| format!("block {i}: client sent nothing"))?
                        .map_err(|e| format!("block {i}: read: {e}"))?;
                    if got != block.bytes {
                        return Err(format!(
                            "block {i}: client sent {:?}, capture has {:?}",
                            String::from_utf8_lossy(&got),
                            String::from_utf8_lossy(&block.bytes)
                        ));
                    }
                }
            }
        }
        // Nothing more may arrive from the client.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(100), sock.read_to_end(&mut rest)).await;
        if !rest.is_empty() {
            return Err(format!(
                "client sent extra bytes {:?}",
                String::from_utf8_lossy(&rest)
            ));
        }
        Ok(())
    });
    (addr, task)
}
