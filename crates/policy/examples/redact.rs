//! Redacts standard input line by line (`cargo run --example redact`), timing setup.
use std::io::BufRead;

fn main() {
    let t = std::time::Instant::now();
    let r = sessiontrail_policy::SecretRedactor::new();
    eprintln!("new: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = r.find("api_key = abc token secret password key");
    eprintln!(
        "first find (compiles the activated formats): {:?}",
        t.elapsed()
    );
    let t = std::time::Instant::now();
    let mut n = 0;
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("utf-8 input");
        let (out, found) = r.redact_str(&line);
        n += found.len();
        println!("{out}");
    }
    eprintln!("{n} secrets, {:?}", t.elapsed());
}
