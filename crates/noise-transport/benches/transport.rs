//! Criterion benchmarks for the BOLT 8 transport, each beside its floor in the same run: two
//! bare ChaCha20-Poly1305 calls (the 2-byte length header and the body) with `ring` and with
//! RustCrypto `chacha20poly1305`, keys prepared once.
//!
//! `cargo bench -p noise-transport` measures the transport with the default backend (ring);
//! add `--no-default-features --features rustcrypto` for the other. Every benchmark processes
//! `BATCH` messages per iteration and reports messages per second.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305, KeyInit};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use noise_transport::{
    Decryptor, Encryptor, InitiatorHandshake, PublicKey, ResponderHandshake, SecretKey,
    AEAD_BACKEND,
};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

const BATCH: usize = 64;
const SIZES: [(usize, &str); 3] = [(32, "32B"), (1024, "1KiB"), (65535, "64KiB")];
const CK: [u8; 32] = [0x11; 32];
const KEY: [u8; 32] = [0x22; 32];

fn nonce_bytes(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_le_bytes());
    nonce
}

fn ring_key() -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &KEY).unwrap())
}

fn ring_seal(key: &LessSafeKey, counter: u64, buf: &mut [u8]) -> [u8; 16] {
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce_bytes(counter)),
            Aad::empty(),
            buf,
        )
        .unwrap();
    tag.as_ref().try_into().unwrap()
}

fn rustcrypto_seal(key: &ChaCha20Poly1305, counter: u64, buf: &mut [u8]) -> chacha20poly1305::Tag {
    key.encrypt_in_place_detached((&nonce_bytes(counter)).into(), &[], buf)
        .unwrap()
}

/// `BATCH` (header, body) ciphertext pairs with their tags appended, as a transport sends them.
fn sealed_pairs(size: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let key = ring_key();
    (0..BATCH as u64)
        .map(|i| {
            let mut header = vec![0u8; 2];
            let tag = ring_seal(&key, 2 * i, &mut header);
            header.extend_from_slice(&tag);
            let mut body = vec![0xab; size];
            let tag = ring_seal(&key, 2 * i + 1, &mut body);
            body.extend_from_slice(&tag);
            (header, body)
        })
        .collect()
}

fn handshake(c: &mut Criterion) {
    let initiator_key = SecretKey::from_slice(&[1; 32]).unwrap();
    let responder_key = SecretKey::from_slice(&[2; 32]).unwrap();
    let responder_id = PublicKey::from_secret_key_global(&responder_key);
    let mut group = c.benchmark_group("handshake");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("lnpeer", AEAD_BACKEND), |b| {
        b.iter(|| {
            let (initiator, act_one) = InitiatorHandshake::new(&initiator_key, &responder_id);
            let (responder, act_two) = ResponderHandshake::new(&responder_key)
                .read_act_one(&act_one)
                .unwrap();
            let (act_three, ours) = initiator.read_act_two(&act_two).unwrap();
            let theirs = responder.read_act_three(&act_three).unwrap();
            (ours, theirs)
        })
    });
    group.finish();
}

fn encrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("encrypt");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (size, label) in SIZES {
        let message = vec![0xab; size];
        group.bench_function(
            BenchmarkId::new(format!("lnpeer/{AEAD_BACKEND}"), label),
            |b| {
                let mut enc = Encryptor::from_keys(CK, KEY);
                let mut out = Vec::new();
                b.iter(|| {
                    out.clear();
                    for _ in 0..BATCH {
                        enc.encrypt_into(&message, &mut out).unwrap();
                    }
                })
            },
        );
        group.bench_function(BenchmarkId::new("bare-aead/ring", label), |b| {
            let key = ring_key();
            let mut header = [0u8; 2];
            let mut body = message.clone();
            b.iter(|| {
                for i in 0..BATCH as u64 {
                    black_box(ring_seal(&key, 2 * i, &mut header));
                    black_box(ring_seal(&key, 2 * i + 1, &mut body));
                }
            })
        });
        group.bench_function(BenchmarkId::new("bare-aead/rustcrypto", label), |b| {
            let key = ChaCha20Poly1305::new((&KEY).into());
            let mut header = [0u8; 2];
            let mut body = message.clone();
            b.iter(|| {
                for i in 0..BATCH as u64 {
                    black_box(rustcrypto_seal(&key, 2 * i, &mut header));
                    black_box(rustcrypto_seal(&key, 2 * i + 1, &mut body));
                }
            })
        });
    }
    group.finish();
}

fn decrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("decrypt");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (size, label) in SIZES {
        let message = vec![0xab; size];
        let mut enc = Encryptor::from_keys(CK, KEY);
        let mut stream = Vec::new();
        for _ in 0..BATCH {
            enc.encrypt_into(&message, &mut stream).unwrap();
        }
        group.bench_function(
            BenchmarkId::new(format!("lnpeer/{AEAD_BACKEND}"), label),
            |b| {
                b.iter_batched(
                    || {
                        // Arrival of the ciphertext (the socket read) is not part of decryption.
                        let mut dec = Decryptor::from_keys(CK, KEY);
                        dec.push(&stream);
                        dec
                    },
                    |mut dec| {
                        let mut count = 0;
                        while let Some(plaintext) = dec.next_message().unwrap() {
                            count += plaintext.len();
                        }
                        assert_eq!(count, BATCH * size);
                        dec
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        let pairs = sealed_pairs(size);
        group.bench_function(BenchmarkId::new("bare-aead/ring", label), |b| {
            let key = ring_key();
            b.iter_batched(
                || pairs.clone(),
                |mut pairs| {
                    for (i, (header, body)) in pairs.iter_mut().enumerate() {
                        let i = i as u64;
                        key.open_in_place(
                            Nonce::assume_unique_for_key(nonce_bytes(2 * i)),
                            Aad::empty(),
                            header,
                        )
                        .unwrap();
                        key.open_in_place(
                            Nonce::assume_unique_for_key(nonce_bytes(2 * i + 1)),
                            Aad::empty(),
                            body,
                        )
                        .unwrap();
                    }
                    pairs
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("bare-aead/rustcrypto", label), |b| {
            let key = ChaCha20Poly1305::new((&KEY).into());
            b.iter_batched(
                || pairs.clone(),
                |mut pairs| {
                    for (i, (header, body)) in pairs.iter_mut().enumerate() {
                        let i = i as u64;
                        for (counter, part) in [(2 * i, header), (2 * i + 1, body)] {
                            let split = part.len() - 16;
                            let (ciphertext, tag) = part.split_at_mut(split);
                            key.decrypt_in_place_detached(
                                (&nonce_bytes(counter)).into(),
                                &[],
                                ciphertext,
                                (&*tag).into(),
                            )
                            .unwrap();
                        }
                    }
                    pairs
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = handshake, encrypt, decrypt
}
criterion_main!(benches);
