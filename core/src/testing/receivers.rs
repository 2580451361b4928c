//! Local receivers for tests of outgoing webhooks and alerts: an HTTP server that records
//! every request and answers as told, and a real SMTP server (aiosmtpd) on loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use rand::Rng as _;
use serde_json::Value;

/// What a receiver answers.
#[derive(Clone, Copy)]
pub enum Mode {
    Accept,
    /// Fails this share of requests with a 500, at random.
    Flaky(f64),
    Status(u16),
}

#[derive(Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

/// A local HTTP receiver that records every request (failed ones too).
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver =
            Receiver { addr: listener.local_addr().unwrap(), got: Arc::default(), mode: Arc::new(Mutex::new(mode)) };
        let app = Router::new().route("/{*path}", post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.got.lock().unwrap().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let body = String::from_utf8_lossy(&body).to_string();
    r.got.lock().unwrap().push(Received { headers, body });
    let mode = *r.mode.lock().unwrap();
    match mode {
        Mode::Accept => (StatusCode::OK, "ok"),
        Mode::Flaky(share) if rand::thread_rng().gen_bool(share) => (StatusCode::INTERNAL_SERVER_ERROR, "flaky"),
        Mode::Flaky(_) => (StatusCode::OK, "ok"),
        Mode::Status(code) => (StatusCode::from_u16(code).unwrap(), "no"),
    }
}

/// aiosmtpd on loopback, started for one test and stopped with it.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        use std::io::BufRead as _;
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/testing/smtp_receiver.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.strip_prefix("ready ").and_then(|p| p.trim().parse().ok()).unwrap_or_else(|| {
            panic!(
                "the SMTP receiver did not start (is aiosmtpd installed? scripts/tools.sh ensure_python_test_packages): {line:?}"
            )
        });
        SmtpServer { child, port, dir }
    }

    /// `(envelope recipients, raw message)` of each message received.
    pub fn messages(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for n in 1.. {
            let base = self.dir.path().join(n.to_string());
            let (Ok(eml), Ok(rcpt)) = (
                std::fs::read_to_string(base.with_extension("eml")),
                std::fs::read_to_string(base.with_extension("rcpt")),
            ) else {
                break;
            };
            found.push((rcpt, eml));
        }
        found
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
