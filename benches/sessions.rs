//! Whole sessions per second for the three everyday flows, with real TLS.
//! Certificates are made once; each iteration runs a fresh session, handshake included.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use smtp_lab::sim::{world::Pki, Scenario};

fn bench(c: &mut Criterion) {
    let pki = Pki::lab();
    let mut g = c.benchmark_group("sessions");
    g.throughput(Throughput::Elements(1));
    for (name, scenario) in [
        ("25 relay, opportunistic STARTTLS", Scenario::relay()),
        ("587 submission, STARTTLS + AUTH", Scenario::submission()),
        ("465 implicit TLS + AUTH", Scenario::submissions()),
    ] {
        assert_eq!(scenario.run(&pki).delivered().len(), 1, "{name} must deliver");
        g.bench_function(name, |b| b.iter(|| scenario.run(&pki)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
