//! The background worker that delivers the outbox to the development mailbox.
//!
//! It runs `dispatch_outbox` every second, and at once when a send or resend wakes it,
//! and sweeps expired invitations every minute. Tokens never reach its log lines: it
//! prints counts only.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use invite_core::{CapturingMailer, InviteService};

const TICK: Duration = Duration::from_secs(1);
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Wakes the worker; dropping every waker stops it.
#[derive(Clone)]
pub struct Waker(Sender<()>);

impl Waker {
    /// Asks for a delivery run now.
    pub fn wake(&self) {
        // The worker is gone only during shutdown, when nothing is left to deliver.
        let _ = self.0.send(());
    }
}

/// Starts the worker.
pub fn start(
    service: Arc<InviteService>,
    mailer: Arc<CapturingMailer>,
) -> std::io::Result<(Waker, JoinHandle<()>)> {
    let (tx, rx) = channel();
    let handle = std::thread::Builder::new()
        .name("outbox".to_owned())
        .spawn(move || run(&service, &mailer, &rx))?;
    Ok((Waker(tx), handle))
}

fn run(service: &InviteService, mailer: &CapturingMailer, wake: &Receiver<()>) {
    let mut last_sweep = Instant::now();
    loop {
        match service.dispatch_outbox(mailer) {
            Ok(report) if report.delivered + report.retrying + report.failed > 0 => {
                eprintln!(
                    "outbox: {} delivered, {} retrying, {} failed",
                    report.delivered, report.retrying, report.failed
                );
            }
            Ok(_) => {}
            Err(e) => eprintln!("outbox: dispatch failed: {} ({})", e, e.code()),
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = Instant::now();
            match service.expire_overdue() {
                Ok(0) => {}
                Ok(n) => eprintln!("outbox: {n} invitations expired"),
                Err(e) => eprintln!("outbox: expiry sweep failed: {} ({})", e, e.code()),
            }
        }
        match wake.recv_timeout(TICK) {
            Ok(()) => while wake.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
