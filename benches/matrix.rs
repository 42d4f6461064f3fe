//! How long the whole attack × policy matrix takes: every cell is a full session.

use criterion::{criterion_group, criterion_main, Criterion};
use smtp_lab::sim::world::Pki;

fn bench(c: &mut Criterion) {
    let pki = Pki::lab();
    let cells = smtp_lab::outcome::matrix::run(&pki).rows.iter().flat_map(|r| &r.cells).filter(|c| !c.findings.is_empty()).count();
    eprintln!("matrix: {cells} sessions per run");
    let mut g = c.benchmark_group("matrix");
    g.sample_size(20);
    g.bench_function("full matrix", |b| b.iter(|| smtp_lab::outcome::matrix::run(&pki)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
