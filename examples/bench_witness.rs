//! Witness benchmark (issue 18; `BENCH_ONLY=witness bench/run.sh`): samizdat's witness
//! client submitting a new checkpoint per append to a witness on loopback.
//!
//! Usage: bench_witness ARCHIVE N — the archive's samizdat.toml names the witness
//! (`[[log.witnesses]]`); N times: one record appended through `Archive::append` (a
//! checkpoint signed), then `evidence::witness::submit_latest` (add-checkpoint with the
//! consistency proof from the witness's size, the cosignature verified and stored).
//! Prints `client_submissions_per_s` (submissions only, appends not counted).

use samizdat::capture::Fetcher;
use samizdat::config::Config;
use samizdat::store::archive::Archive;
use samizdat::store::warc::{Record, kind};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = std::path::PathBuf::from(&args[1]);
    let n: usize = args[2].parse().unwrap();
    let cfg_path = root.join("samizdat.toml");
    let config = Config::load(&cfg_path).unwrap();
    let fetcher = Fetcher::new(&config, &cfg_path).unwrap();
    let mut a = Archive::open(&root, config.clone()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut spent = Duration::ZERO;
    for i in 0..n {
        a.append(vec![Record::build(
            kind::RESOURCE,
            "2026-12-03T00:00:00Z",
            Some(&format!("urn:samizdat:bench:{i}")),
            "text/plain",
            vec![],
            format!("record {i}").into_bytes(),
        )])
        .unwrap();
        let t = Instant::now();
        let subs = rt
            .block_on(samizdat::evidence::witness::submit_latest(
                &root, &config, &fetcher,
            ))
            .unwrap();
        spent += t.elapsed();
        assert!(
            subs.iter().all(|s| s.status == "cosigned"),
            "submission {i}: {:?}",
            subs.iter()
                .map(|s| (&s.status, &s.error))
                .collect::<Vec<_>>()
        );
    }
    println!("client_submissions {n}");
    println!(
        "client_submissions_per_s {:.1}",
        n as f64 / spent.as_secs_f64()
    );
}
