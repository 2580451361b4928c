//! `aegis-bench ingest`: a load generator for a running server.
//!
//! Closed loop by default (each client sends its next request when the previous one is
//! answered, over a kept-alive connection), or open loop at a fixed `--rate` to measure
//! latency at a given load. Latency is from sending a request to its full response.

use std::time::{Duration, Instant};

use aegis_core::seed::Generator;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One trace per `POST /api/v1/traces`.
    Single,
    /// `--batch-size` traces per `POST /api/v1/traces/batch`.
    Batch,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// API key of the organization to load.
    #[arg(long, env = "AEGIS_API_KEY")]
    pub api_key: String,
    #[arg(long, value_enum, default_value_t = Mode::Single)]
    pub mode: Mode,
    /// Concurrent clients, each with its own kept-alive connection.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of unmeasured load first, to warm caches and connections.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Traces per request in batch mode.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Target traces per second across all clients (open loop); unset: as fast as answered.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Report the peak resident memory (VmHWM) of this process, e.g. the server's pid.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Distinct request bodies, cycled through (bodies carry no trace id, so each request stores
/// new traces).
const SINGLE_BODIES: usize = 512;
const BATCH_BODIES: usize = 32;

struct ClientResult {
    latencies_us: Vec<u32>,
    traces: u64,
    errors: u64,
    first_error: Option<String>,
}

pub async fn ingest(args: IngestArgs) -> Result<(), String> {
    if args.clients == 0 || args.batch_size == 0 || args.batch_size > 1000 {
        return Err("--clients must be at least 1 and --batch-size from 1 to 1000".into());
    }
    let per_request = match args.mode {
        Mode::Single => 1,
        Mode::Batch => args.batch_size,
    };
    let endpoint = match args.mode {
        Mode::Single => format!("{}/api/v1/traces", args.url.trim_end_matches('/')),
        Mode::Batch => format!("{}/api/v1/traces/batch", args.url.trim_end_matches('/')),
    };
    let bodies = request_bodies(args.mode, args.batch_size);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let health = format!("{}/health", args.url.trim_end_matches('/'));
    client.get(&health).send().await.map_err(|e| format!("the server at {} does not answer: {e}", args.url))?;

    // Each client paces itself to its share of the target rate.
    let interval = args.rate.map(|rate| Duration::from_secs_f64(args.clients as f64 * per_request as f64 / rate));
    let warmup_until = Instant::now() + Duration::from_secs(args.warmup);
    let deadline = warmup_until + Duration::from_secs(args.duration);
    let mut tasks = Vec::with_capacity(args.clients);
    for c in 0..args.clients {
        let client = client.clone();
        let endpoint = endpoint.clone();
        let key = format!("Bearer {}", args.api_key);
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut result = ClientResult { latencies_us: Vec::new(), traces: 0, errors: 0, first_error: None };
            let mut ticker = interval.map(|every| {
                let mut t = tokio::time::interval(every);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            let mut i = c * 7;
            loop {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let start = Instant::now();
                if start >= deadline {
                    break;
                }
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let sent = client
                    .post(&endpoint)
                    .header("authorization", &key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(_) if status.as_u16() == 201 || status.as_u16() == 207 => Ok(()),
                            Ok(bytes) => Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                if start < warmup_until {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        result.latencies_us.push(start.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        result.traces += per_request as u64;
                    }
                    Err(e) => {
                        result.errors += 1;
                        result.first_error.get_or_insert(e);
                    }
                }
            }
            result
        }));
    }
    let mut latencies = Vec::new();
    let (mut traces, mut errors, mut first_error) = (0u64, 0u64, None);
    for task in tasks {
        let r = task.await.map_err(|e| format!("a client task failed: {e}"))?;
        latencies.extend(r.latencies_us);
        traces += r.traces;
        errors += r.errors;
        first_error = first_error.or(r.first_error);
    }
    latencies.sort_unstable();
    let secs = args.duration as f64;
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1000.0
    };
    let peak_rss_mb = args.server_pid.and_then(peak_rss_mb);
    let report = json!({
        "mode": match args.mode { Mode::Single => "single", Mode::Batch => "batch" },
        "clients": args.clients,
        "batch_size": per_request,
        "target_rate": args.rate,
        "duration_s": args.duration,
        "requests": latencies.len(),
        "traces": traces,
        "traces_per_s": (traces as f64 / secs).round(),
        "requests_per_s": (latencies.len() as f64 / secs).round(),
        "latency_ms": { "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0) },
        "errors": errors,
        "server_peak_rss_mb": peak_rss_mb,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "ingest {} x{} clients, {}s{}: {:.0} traces/s ({:.0} requests/s), latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors{}",
            report["mode"].as_str().unwrap_or_default(),
            args.clients,
            args.duration,
            args.rate.map(|r| format!(" at {r:.0} traces/s")).unwrap_or_default(),
            traces as f64 / secs,
            latencies.len() as f64 / secs,
            pct(0.5),
            pct(0.95),
            pct(0.99),
            pct(1.0),
            errors,
            peak_rss_mb.map(|mb| format!(", server peak RSS {mb:.0} MB")).unwrap_or_default(),
        );
    }
    if let Some(e) = first_error {
        eprintln!("first error: {e}");
    }
    if traces == 0 {
        return Err("no trace was accepted".into());
    }
    Ok(())
}

fn request_bodies(mode: Mode, batch_size: usize) -> Vec<bytes::Bytes> {
    let mut generator = Generator::new(2026);
    let count = match mode {
        Mode::Single => SINGLE_BODIES,
        Mode::Batch => BATCH_BODIES,
    };
    // Live traffic: no client timestamp, so the server stamps each trace as it arrives.
    let mut live = || {
        let mut trace = generator.trace();
        trace.timestamp = None;
        trace
    };
    (0..count)
        .map(|_| {
            let body = match mode {
                Mode::Single => serde_json::to_vec(&live()),
                Mode::Batch => {
                    serde_json::to_vec(&json!({ "traces": (0..batch_size).map(|_| live()).collect::<Vec<_>>() }))
                }
            };
            bytes::Bytes::from(body.unwrap_or_default())
        })
        .collect()
}

/// Peak resident set size of a process, from /proc (Linux).
fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The `q`-quantile of sorted milliseconds.
fn quantile_ms(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    #[arg(long, env = "AEGIS_API_KEY")]
    pub api_key: String,
    /// Requests per endpoint.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Email and password of a dashboard user, to time the Overview page itself.
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long, env = "AEGIS_USER_PASSWORD")]
    pub password: Option<String>,
}

/// Words the demo traces contain, from common to rare, so searches hit few and many rows.
const SEARCH_WORDS: &[&str] = &[
    "warfarin",
    "acetaminophen bleeding",
    "methotrexate weekly",
    "metformin",
    "GME",
    "sertraline tramadol",
    "nitroglycerin",
];

/// `aegis-bench read`: the latency of what the dashboard asks most (search, the Overview's
/// figures, a trend, the Overview page), one request at a time.
pub async fn read(args: ReadArgs) -> Result<(), String> {
    let base = args.url.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let key = format!("Bearer {}", args.api_key);
    let mut cases: Vec<(String, Vec<String>, bool)> = vec![
        (
            "search GET /api/v1/traces?q=".into(),
            SEARCH_WORDS.iter().map(|w| format!("{base}/api/v1/traces?limit=50&q={}", w.replace(' ', "+"))).collect(),
            true,
        ),
        (
            "search + filters".into(),
            vec![
                format!("{base}/api/v1/traces?limit=50&q=warfarin&severity=critical&domain=healthcare"),
                format!("{base}/api/v1/traces?limit=50&q=acetaminophen&status=fail&application=clinical-assistant"),
                format!("{base}/api/v1/traces?limit=50&q=GME&severity=critical"),
            ],
            true,
        ),
        (
            "filters only".into(),
            vec![
                format!("{base}/api/v1/traces?limit=50&severity=critical&domain=trading"),
                format!("{base}/api/v1/traces?limit=50&status=needs_review"),
                format!("{base}/api/v1/traces?limit=50&severity=low&domain=healthcare"),
            ],
            true,
        ),
        ("analytics overview (24 h)".into(), vec![format!("{base}/api/v1/analytics/overview")], true),
        (
            "analytics overview (90 days)".into(),
            vec![format!(
                "{base}/api/v1/analytics/overview?from={}",
                (chrono::Utc::now() - chrono::Duration::days(90)).format("%Y-%m-%d")
            )],
            true,
        ),
        (
            "trends (7 days, hourly)".into(),
            vec![format!(
                "{base}/api/v1/analytics/trends?metric=latency&from={}",
                (chrono::Utc::now() - chrono::Duration::days(7)).format("%Y-%m-%d")
            )],
            true,
        ),
    ];
    let mut cookie = None;
    if let (Some(email), Some(password)) = (&args.email, &args.password) {
        let login = client
            .post(format!("{base}/api/login"))
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send()
            .await
            .map_err(|e| format!("cannot sign in: {e}"))?;
        if !login.status().is_success() && !login.status().is_redirection() {
            return Err(format!("cannot sign in: HTTP {}", login.status()));
        }
        cookie = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .find(|c| c.starts_with("aegis_session="));
        if cookie.is_none() {
            return Err("signing in set no session cookie: wrong email or password?".into());
        }
        cases.push(("Overview page (server render)".into(), vec![format!("{base}/")], false));
    }
    for (name, urls, api) in cases {
        let mut ms = Vec::with_capacity(args.requests);
        for i in 0..args.requests + 5 {
            let mut request = client.get(&urls[i % urls.len()]);
            if api {
                request = request.header("authorization", &key);
            } else if let Some(cookie) = &cookie {
                request = request.header("cookie", cookie);
            }
            let start = Instant::now();
            let response = request.send().await.map_err(|e| format!("{name}: {e}"))?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| format!("{name}: {e}"))?;
            if !status.is_success() {
                return Err(format!("{name}: HTTP {status}: {}", String::from_utf8_lossy(&body)));
            }
            // The first few warm the connection and the database's caches.
            if i >= 5 {
                ms.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "{name:<34} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  ({} requests)",
            quantile_ms(&ms, 0.5),
            quantile_ms(&ms, 0.95),
            quantile_ms(&ms, 0.99),
            ms.len()
        );
    }
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Where to subscribe, if not `--url` (another node of the same database).
    #[arg(long)]
    pub ws_url: Option<String>,
    #[arg(long, env = "AEGIS_API_KEY")]
    pub api_key: String,
    /// Traces per second sent while measuring.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
}

/// `aegis-bench live`: sends traces at `--rate` and times each one's arrival on `/ws/traces`,
/// from its evaluation finishing (the server's `evaluated_at`) and from the request sent.
pub async fn live(args: LiveArgs) -> Result<(), String> {
    use futures::StreamExt as _;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use tokio_tungstenite::tungstenite::Message;

    let base = args.url.trim_end_matches('/').to_string();
    let ws_base = args.ws_url.as_deref().unwrap_or(&base).trim_end_matches('/').replacen("http", "ws", 1);
    let mut request =
        format!("{ws_base}/ws/traces").into_client_request().map_err(|e| format!("bad websocket url: {e}"))?;
    let auth =
        format!("Bearer {}", args.api_key).parse().map_err(|_| "the API key is not a valid header".to_string())?;
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) =
        tokio_tungstenite::connect_async(request).await.map_err(|e| format!("cannot subscribe to {ws_base}: {e}"))?;

    // Trace id → when its request was sent, until its event arrives.
    let sent: Arc<Mutex<HashMap<uuid::Uuid, Instant>>> = Arc::default();
    let total_sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::builder().tcp_nodelay(true).build().map_err(|e| e.to_string())?;
    let sender = {
        let (sent, total_sent) = (sent.clone(), total_sent.clone());
        let (base, key) = (base.clone(), format!("Bearer {}", args.api_key));
        let (rate, duration) = (args.rate, args.duration);
        tokio::spawn(async move {
            let mut generator = Generator::new(7);
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let end = Instant::now() + Duration::from_secs(duration);
            let mut inflight = tokio::task::JoinSet::new();
            while Instant::now() < end {
                tick.tick().await;
                let mut trace = generator.trace();
                trace.timestamp = None;
                let id = uuid::Uuid::now_v7();
                trace.trace_id = Some(id);
                total_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (client, base, key, sent) = (client.clone(), base.clone(), key.clone(), sent.clone());
                inflight.spawn(async move {
                    if let Ok(mut s) = sent.lock() {
                        s.insert(id, Instant::now());
                    }
                    let _ = client
                        .post(format!("{base}/api/v1/traces"))
                        .header("authorization", key)
                        .json(&trace)
                        .send()
                        .await;
                });
            }
            while inflight.join_next().await.is_some() {}
        })
    };

    let (mut from_evaluated, mut from_sent) = (Vec::new(), Vec::new());
    let mut expected = None;
    let deadline = Instant::now() + Duration::from_secs(args.duration + 30);
    while Instant::now() < deadline {
        if expected.is_none() && sender.is_finished() {
            expected = Some(total_sent.load(std::sync::atomic::Ordering::Relaxed));
        }
        if expected.is_some_and(|n| from_sent.len() >= n) {
            break;
        }
        let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(500), socket.next()).await else {
            continue;
        };
        let Ok(Message::Text(text)) = message else { continue };
        let arrived = chrono::Utc::now();
        let Ok(event) = serde_json::from_str::<aegis_core::model::LiveEvent>(&text) else { continue };
        let Some(at) = sent.lock().ok().and_then(|mut s| s.remove(&event.trace_id)) else { continue };
        from_sent.push(at.elapsed().as_secs_f64() * 1000.0);
        from_evaluated.push((arrived - event.evaluated_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    let total = total_sent.load(std::sync::atomic::Ordering::Relaxed);
    from_evaluated.sort_by(f64::total_cmp);
    from_sent.sort_by(f64::total_cmp);
    println!(
        "live feed at {:.0} traces/s for {}s: {} of {} traces seen; evaluated → on the websocket p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; sent → on the websocket p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        args.rate,
        args.duration,
        from_sent.len(),
        total,
        quantile_ms(&from_evaluated, 0.5),
        quantile_ms(&from_evaluated, 0.95),
        quantile_ms(&from_evaluated, 0.99),
        quantile_ms(&from_sent, 0.5),
        quantile_ms(&from_sent, 0.95),
        quantile_ms(&from_sent, 0.99),
    );
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct AlertsArgs {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// An admin key: the bench sets up (and afterwards removes) a Slack channel, a rule and a
    /// webhook endpoint pointing at its own local receiver.
    #[arg(long, env = "AEGIS_API_KEY")]
    pub api_key: String,
    /// Overdose traces per second, each raising an alert.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
}

/// `aegis-bench alerts`: sends overdose traces at `--rate` with an alert rule of no cooldown,
/// and times each alert from its evaluation being recorded (the alert's `created_at`, written
/// in the same transaction) to its arrival at a local Slack-format receiver and a webhook
/// receiver. The server must allow loopback targets (`AEGIS_WEBHOOK_ALLOW_PRIVATE=1`).
pub async fn alerts(args: AlertsArgs) -> Result<(), String> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::routing::post;

    type Arrivals = Arc<Mutex<Vec<(String, serde_json::Value, chrono::DateTime<chrono::Utc>)>>>;
    let arrivals: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let receiver = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let app = axum::Router::new()
        .route(
            "/{*path}",
            post(|State(a): State<Arrivals>, uri: axum::http::Uri, body: Bytes| async move {
                let at = chrono::Utc::now();
                if let (Ok(mut a), Ok(body)) = (a.lock(), serde_json::from_slice(&body)) {
                    a.push((uri.path().to_string(), body, at));
                }
                "ok"
            }),
        )
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let base = args.url.trim_end_matches('/').to_string();
    let auth = format!("Bearer {}", args.api_key);
    let client = reqwest::Client::builder().tcp_nodelay(true).build().map_err(|e| e.to_string())?;
    let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = client.request(method, format!("{base}/api/v1{path}")).header("authorization", &auth);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("{status}: {text}"));
            }
            Ok(serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default())
        }
    };
    let channel = call(
        reqwest::Method::POST,
        "/alert-channels",
        Some(json!({"name": "bench", "kind": "slack", "webhook_url": format!("{receiver}/slack/services/bench")})),
    )
    .await
    .map_err(|e| format!("cannot create the Slack channel (is AEGIS_WEBHOOK_ALLOW_PRIVATE=1 set?): {e}"))?;
    let channel_id = channel["id"].as_str().unwrap_or_default().to_string();
    let rule = call(
        reqwest::Method::POST,
        "/alert-rules",
        Some(json!({"name": "bench", "min_severity": "high", "channels": [channel_id], "cooldown_secs": 0})),
    )
    .await?;
    let hook = call(
        reqwest::Method::POST,
        "/webhooks",
        Some(json!({"url": format!("{receiver}/hooks"), "events": ["alert.triggered"]})),
    )
    .await?;

    // Trace id → when its request was sent.
    let mut sent: HashMap<uuid::Uuid, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    let end = Instant::now() + Duration::from_secs(args.duration);
    let mut n = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        n += 1;
        let id = uuid::Uuid::now_v7();
        let trace = json!({
            "trace_id": id,
            "application_id": "alerts-bench",
            "ai_processing": {
                "model": "bench",
                "input": format!("Question {n}: how much Tylenol for back pain?"),
                "output": "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists."
            },
            "metadata": {"domain": "healthcare"}
        });
        sent.insert(id, Instant::now());
        let request = client.post(format!("{base}/api/v1/traces")).header("authorization", &auth).json(&trace);
        tokio::spawn(async move { request.send().await });
    }
    // Wait until the receiver has stood still for a few seconds.
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = arrivals.lock().map(|a| a.len()).unwrap_or(0);
        if now == last {
            break;
        }
        last = now;
    }

    let (mut to_slack, mut to_webhook, mut alerts, mut represented) = (Vec::new(), Vec::new(), 0, 0u64);
    let mut created: HashMap<String, chrono::DateTime<chrono::Utc>> = HashMap::new();
    let got = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    for (path, body, at) in &got {
        if path == "/hooks" {
            let data = &body["data"];
            let Ok(created_at) = serde_json::from_value::<chrono::DateTime<chrono::Utc>>(data["created_at"].clone())
            else {
                continue;
            };
            created.insert(data["trace_id"].as_str().unwrap_or_default().to_string(), created_at);
            to_webhook.push((*at - created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
            alerts += 1;
            represented += 1 + data["grouped"].as_u64().unwrap_or(0);
        }
    }
    for (path, body, at) in &got {
        if path.starts_with("/slack/") {
            let url = body["blocks"][3]["elements"][0]["url"].as_str().unwrap_or_default();
            let trace = url.rsplit('/').next().unwrap_or_default();
            if let Some(created_at) = created.get(trace) {
                to_slack.push((*at - *created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
            }
        }
    }
    for (path, id) in [
        ("/webhooks", hook["id"].as_str()),
        ("/alert-rules", rule["id"].as_str()),
        ("/alert-channels", Some(channel_id.as_str())),
    ] {
        let _ = call(reqwest::Method::DELETE, &format!("{path}/{}", id.unwrap_or_default()), None).await;
    }
    to_slack.sort_by(f64::total_cmp);
    to_webhook.sort_by(f64::total_cmp);
    println!(
        "alerts at {:.0} overdose traces/s for {}s: {} traces sent, {} alerts standing for {} traces; \
         evaluated → Slack p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} messages); \
         evaluated → webhook p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        args.rate,
        args.duration,
        sent.len(),
        alerts,
        represented,
        quantile_ms(&to_slack, 0.5),
        quantile_ms(&to_slack, 0.95),
        quantile_ms(&to_slack, 0.99),
        to_slack.last().copied().unwrap_or(0.0),
        to_slack.len(),
        quantile_ms(&to_webhook, 0.5),
        quantile_ms(&to_webhook, 0.95),
        to_webhook.last().copied().unwrap_or(0.0),
    );
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct ActiveLearningArgs {
    /// The pack whose seed set is the pool of unlabelled traces.
    #[arg(long, default_value = "healthcare")]
    pub domain: String,
    /// The test set, relative to the pack: by default the templated set, on which Tier 2 can
    /// reach the target at all (on the hand-written `eval/eval.jsonl` it tops out lower).
    #[arg(long, default_value = "eval/templated.jsonl")]
    pub test: String,
    /// The Tier 2 accuracy to reach on the test set.
    #[arg(long, default_value_t = 0.95)]
    pub target: f64,
    /// Random labels to start from; then `--step` more a round.
    #[arg(long, default_value_t = 20)]
    pub start: usize,
    #[arg(long, default_value_t = 10)]
    pub step: usize,
    /// Independent runs (different starting sets), averaged.
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Which strategies to compare (disagreement can take many rounds on a large pool).
    #[arg(long, value_delimiter = ',', default_value = "uncertainty,margin,disagreement,random")]
    pub strategies: Vec<String>,
}

/// `aegis-bench active-learning`: how many expert labels Tier 2 needs to reach `--target`
/// accuracy when experts label what each strategy picks, against labels picked at random.
pub fn active_learning(args: ActiveLearningArgs) -> Result<(), String> {
    use aegis_core::domains::classifier::features::{featurize, trace_text};
    use aegis_core::domains::{cases, Domain};
    use aegis_core::review::active_learning::{simulate, Labelled, SimulationOptions, Strategy};

    let config = aegis_core::config::Config::load().map_err(|e| e.to_string())?;
    let dir = config.packs_folder().join(&args.domain);
    let pack = Domain::load_for_training(&dir, &aegis_core::domains::rules::CustomValidators::default())
        .map_err(|e| e.to_string())?;
    let tier2 = pack.spec.tier2.as_ref().ok_or_else(|| format!("{} has no tier2 section", args.domain))?;
    let options = pack.train_options();
    let load = |path: std::path::PathBuf| -> Result<Vec<Labelled>, String> {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let cases = cases::parse_jsonl(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let now = chrono::Utc::now();
        let traces: Vec<_> = cases.into_iter().map(|c| c.into_labelled_trace(now)).collect();
        Ok(pack
            .examples(&traces)
            .into_iter()
            .map(|e| {
                let codes: Vec<&str> = e.tier1.iter().map(String::as_str).collect();
                (featurize(&trace_text(e.trace, &codes), options.buckets), !e.tier1.is_empty(), e.unsafe_)
            })
            .collect())
    };
    let pool = load(dir.join(&tier2.seed))?;
    let test = load(dir.join(&args.test))?;
    println!(
        "{}: pool of {} labelled traces, test set of {}, target accuracy {:.2}, {} random + {} a round, {} runs",
        args.domain,
        pool.len(),
        test.len(),
        args.target,
        args.start,
        args.step,
        args.seeds
    );
    let mut strategies = Vec::new();
    for name in &args.strategies {
        let found = Strategy::ALL.into_iter().find(|s| s.as_str() == name);
        strategies.push(found.ok_or_else(|| {
            format!("--strategies: unknown strategy {name:?}; use uncertainty, margin, disagreement or random")
        })?);
    }
    let mut needed: Vec<(Strategy, Vec<usize>)> = Vec::new();
    for strategy in strategies {
        let mut runs = Vec::new();
        for seed in 0..args.seeds {
            let o = SimulationOptions {
                start: args.start,
                step: args.step,
                max_labels: pool.len(),
                target_accuracy: args.target,
                threshold: 0.5,
                seed,
                train: options.clone(),
            };
            let run = simulate(&pool, &test, strategy, &o).map_err(|e| e.to_string())?;
            runs.push(run.labels_to_target.unwrap_or(pool.len()));
        }
        let mean = runs.iter().sum::<usize>() as f64 / runs.len().max(1) as f64;
        println!(
            "  {:<13} labels to reach {:.2}: mean {:>6.1}  (runs: {:?})",
            strategy.as_str(),
            args.target,
            mean,
            runs
        );
        needed.push((strategy, runs));
    }
    let mean = |s: Strategy| {
        needed.iter().find(|(x, _)| *x == s).map(|(_, r)| r.iter().sum::<usize>() as f64 / r.len().max(1) as f64)
    };
    if let (Some(u), Some(r)) = (mean(Strategy::Uncertainty), mean(Strategy::Random)) {
        println!("uncertainty sampling needs {:.0}% fewer labels than random sampling", (1.0 - u / r) * 100.0);
    }
    Ok(())
}
