//! Line written to backend: how long after a transcript line is written the backend
//! receives the spans it made final. `linelat BIN TRANSCRIPT [--gap-ms 1000] [--poll-ms 250]`
//! runs `BIN watch` on a fresh folder shipping to an OTLP/HTTP receiver of its own, writes
//! the transcript one line at a time, and after each line waits up to the gap for a
//! request: one that comes is that line's (everything earlier was already received).
//! Prints p50 / p99 / max over the lines that made spans final.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: linelat BIN TRANSCRIPT [--gap-ms 1000] [--poll-ms 250]";
    let bin = args.get(1).expect(usage).clone();
    let transcript = std::fs::read_to_string(args.get(2).expect(usage)).unwrap();
    let flag = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let gap = Duration::from_millis(flag("--gap-ms", 1000));
    let poll = flag("--poll-ms", 250).to_string();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, arrivals) = mpsc::channel::<Instant>();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || serve(conn, &tx));
        }
    });

    let dir = std::env::temp_dir().join(format!("linelat-{}", std::process::id()));
    let projects = dir.join("projects");
    std::fs::create_dir_all(projects.join("-p")).unwrap();
    let file = projects.join("-p/s.jsonl");
    let mut watch = Command::new(&bin)
        .arg("--store")
        .arg(dir.join("st.db"))
        .args([
            "watch",
            "--idle-timeout",
            "1h",
            "--poll-ms",
            &poll,
            "--endpoint",
            &url,
        ])
        .arg(&projects)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));

    let mut out = std::fs::File::create(&file).unwrap();
    let mut samples = Vec::new();
    let lines: Vec<&str> = transcript.lines().collect();
    for line in &lines {
        while arrivals.try_recv().is_ok() {}
        let t = Instant::now();
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
        if let Ok(at) = arrivals.recv_timeout(gap) {
            samples.push(at - t);
            // The rest of this line's spans, if they came in several requests.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let _ = std::fs::remove_dir_all(&dir);

    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "poll {poll} ms: {} lines written, {} of them shipped spans: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lines.len(),
        samples.len(),
        ms(pick(0.5)),
        ms(pick(0.99)),
        ms(pick(1.0))
    );
}

/// Answers every OTLP/HTTP request with 200 and an empty response, noting when it came.
fn serve(conn: std::net::TcpStream, tx: &mpsc::Sender<Instant>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut w = conn;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let _ = tx.send(Instant::now());
        let reply =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if w.write_all(reply).is_err() {
            return;
        }
    }
}
