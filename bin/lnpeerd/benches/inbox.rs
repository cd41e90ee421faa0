//! The durable inbox's cost per received custom message: one `append_received` (insert,
//! bounds check, commit) on a WAL database, with the inbox empty and with it full at its
//! default bounds (10,000 messages, so every append also drops the oldest).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use delivery::InboxBounds;
use lnpeerd::store::Store;

const PEER: [u8; 33] = [2; 33];
const PAYLOAD: [u8; 64] = [0xab; 64];

fn bounds(max_count: u64) -> InboxBounds {
    InboxBounds {
        max_count,
        max_bytes: 64 * 1024 * 1024,
        received_after: 0,
    }
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("inbox_append");
    for (name, kept) in [("below_bounds", 1_000_000), ("at_count_bound", 10_000)] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("lnpeer.sqlite3")).unwrap();
        let bounds = bounds(kept);
        for _ in 0..10_000 {
            store.append_received(&PEER, &PAYLOAD, 1, &bounds).unwrap();
        }
        group.bench_function(name, |b| {
            b.iter(|| store.append_received(&PEER, &PAYLOAD, 2, &bounds).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
