//! Benchmark of the log's hash store (`samizdat::log::hashes::HashStore`).
//!
//! `cargo run --release --example bench_log -- [--leaves N] [--samples S]`
//!
//! Builds a HashStore in a temporary directory from N pseudo-random leaf hashes
//! (default 1,000,000), syncs it, then times S (default 10,000) inclusion proofs for random
//! leaves of the full tree and S consistency proofs from random old sizes to the full
//! size, verifying each proof, and S inclusion proofs checked against a signed checkpoint
//! (`HashStore::checked_inclusion`, what every proof served goes through; at sizes up to
//! 1,000 below the checkpoint, which adds a consistency proof). Prints one `name value`
//! line per measurement.

use std::time::Instant;

use samizdat::log::hashes::HashStore;
use samizdat::log::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let mut leaves: u64 = 1_000_000;
    let mut samples: usize = 10_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--leaves" => {
                leaves = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--leaves N")
            }
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--samples S")
            }
            other => {
                eprintln!("unknown argument {other}; usage: bench_log [--leaves N] [--samples S]");
                std::process::exit(2);
            }
        }
    }
    assert!(leaves >= 2, "--leaves must be at least 2");

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hashes");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let input: Vec<Hash> = (0..leaves)
        .map(|_| leaf_hash(&rng.next().to_le_bytes()))
        .collect();

    let mut store = HashStore::open(&path).expect("open");
    let t = Instant::now();
    for chunk in input.chunks(1) {
        store.append(chunk).expect("append");
    }
    store.sync().expect("sync");
    let secs = t.elapsed().as_secs_f64();
    println!("log_leaves {leaves}");
    println!("log_appends_per_sec {:.0}", leaves as f64 / secs);
    println!("log_build_seconds {secs:.3}");
    println!(
        "log_hashes_file_bytes {}",
        std::fs::metadata(&path).expect("stat").len()
    );

    let t = Instant::now();
    let root = store.root(leaves).expect("root");
    println!("log_root_us {:.1}", t.elapsed().as_secs_f64() * 1e6);

    let mut incl = Vec::with_capacity(samples);
    for _ in 0..samples {
        let idx = rng.next() % leaves;
        let t = Instant::now();
        let proof = store.inclusion_proof(idx, leaves).expect("inclusion proof");
        incl.push(t.elapsed().as_secs_f64() * 1e6);
        verify_inclusion(&input[idx as usize], idx, leaves, &proof, &root).expect("verifies");
    }
    incl.sort_by(f64::total_cmp);

    // What `log proof`, the web's proof endpoint and bundle export do: the proof is
    // checked against the signed checkpoint before it is served.
    let cp = samizdat::log::note::Checkpoint {
        origin: "bench".into(),
        size: leaves,
        root,
        extensions: vec![],
    };
    let mut checked = Vec::with_capacity(samples);
    for _ in 0..samples {
        let idx = rng.next() % leaves;
        let size = leaves - rng.next() % 1000.min(leaves - idx);
        let t = Instant::now();
        store
            .checked_inclusion(idx, size, &cp)
            .expect("checked inclusion proof");
        checked.push(t.elapsed().as_secs_f64() * 1e6);
    }
    checked.sort_by(f64::total_cmp);

    let mut cons = Vec::with_capacity(samples);
    let mut roots_checked = 0;
    for i in 0..samples {
        let old = 1 + rng.next() % leaves;
        let t = Instant::now();
        let proof = store
            .consistency_proof(old, leaves)
            .expect("consistency proof");
        cons.push(t.elapsed().as_secs_f64() * 1e6);
        if i < 200 {
            // Verifying needs the old root; check a subset to keep the run short.
            let old_root = store.root(old).expect("old root");
            verify_consistency(old, leaves, &proof, &old_root, &root).expect("verifies");
            roots_checked += 1;
        }
    }
    cons.sort_by(f64::total_cmp);

    println!("log_inclusion_proof_us_p50 {:.2}", percentile(&incl, 0.50));
    println!("log_inclusion_proof_us_p99 {:.2}", percentile(&incl, 0.99));
    println!("log_inclusion_proof_us_max {:.2}", percentile(&incl, 1.0));
    println!(
        "log_checked_inclusion_proof_us_p50 {:.2}",
        percentile(&checked, 0.50)
    );
    println!(
        "log_checked_inclusion_proof_us_p99 {:.2}",
        percentile(&checked, 0.99)
    );
    println!(
        "log_consistency_proof_us_p50 {:.2}",
        percentile(&cons, 0.50)
    );
    println!(
        "log_consistency_proof_us_p99 {:.2}",
        percentile(&cons, 0.99)
    );
    println!("log_proof_samples {samples}");
    println!("log_consistency_proofs_verified {roots_checked}");
}
