//! Prometheus metrics kept in memory: request counts and latencies by route pattern (recorded by
//! `middleware::access_log`), and the passes of the background loops. `routes::health` serves
//! them at `/metrics`. Routes are recorded by pattern, never by concrete path, so no story id or
//! tag reaches the metrics.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    pub workers: std::sync::Arc<WorkerPasses>,
}

/// The node's background loops.
#[derive(Clone, Copy)]
pub enum Worker {
    Mail,
    Scheduler,
    Erasure,
}

impl Worker {
    const ALL: [Worker; 3] = [Worker::Mail, Worker::Scheduler, Worker::Erasure];

    fn name(self) -> &'static str {
        match self {
            Worker::Mail => "mail",
            Worker::Scheduler => "scheduler",
            Worker::Erasure => "erasure",
        }
    }
}

/// Passes each background loop has finished, failed or not. A count that stops growing is a
/// stuck loop; a test that must show something did *not* happen waits for a pass that began
/// after the moment in question instead of sleeping.
#[derive(Default)]
pub struct WorkerPasses([std::sync::atomic::AtomicU64; 3]);

impl WorkerPasses {
    pub fn finished(&self, worker: Worker) {
        self.0[worker as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP engawa_worker_passes_total Passes finished by each background loop.\n# TYPE engawa_worker_passes_total counter"
        );
        for worker in Worker::ALL {
            let n = self.0[worker as usize].load(std::sync::atomic::Ordering::Relaxed);
            let _ = writeln!(
                out,
                "engawa_worker_passes_total{{worker=\"{}\"}} {n}",
                worker.name()
            );
        }
    }
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let s = routes.entry(route.to_owned()).or_default();
        *s.by_status.entry(status).or_default() += 1;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
        s.sum += seconds;
        s.count += 1;
    }

    pub fn render(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            out,
            "# HELP engawa_http_requests_total Requests answered, by route pattern and status."
        );
        let _ = writeln!(out, "# TYPE engawa_http_requests_total counter");
        for (route, s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "engawa_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP engawa_http_request_duration_seconds Time to answer, by route pattern."
        );
        let _ = writeln!(out, "# TYPE engawa_http_request_duration_seconds histogram");
        for (route, s) in routes.iter() {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "engawa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "engawa_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                s.count
            );
        }
    }
}
