//! The manager's tasks and their shutdown: one node-wide stop signal, and a completion guard
//! that every task holds, so that shutting down can wait until all of them have ended
//! (mini-redis's pattern).

use std::sync::Mutex;

use tokio::sync::{mpsc, watch};

/// The stop signal and the completion guard.
pub(crate) struct Tasks {
    shutdown: watch::Sender<bool>,
    /// Every task holds a clone; shutting down drops ours and waits for the channel to close.
    guard: Mutex<Option<mpsc::Sender<()>>>,
    done: tokio::sync::Mutex<mpsc::Receiver<()>>,
}

impl Tasks {
    pub(crate) fn new() -> Self {
        let (guard, done) = mpsc::channel(1);
        Tasks {
            shutdown: watch::channel(false).0,
            guard: Mutex::new(Some(guard)),
            done: tokio::sync::Mutex::new(done),
        }
    }

    /// Spawns a task that holds a completion guard; does nothing once shutdown has begun.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let guard = self.guard.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(guard) = guard {
            tokio::spawn(async move {
                task.await;
                drop(guard);
            });
        }
    }

    /// The node-wide stop signal, for a task to `select!` on with [`stopped`].
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Whether shutdown has begun.
    pub(crate) fn is_stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Signals every task to stop; no task is spawned from now on.
    pub(crate) fn begin_stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// Waits until every task has ended (after [`Tasks::begin_stop`]).
    pub(crate) async fn wait(&self) {
        drop(self.guard.lock().unwrap_or_else(|e| e.into_inner()).take());
        let mut done = self.done.lock().await;
        while done.recv().await.is_some() {}
    }
}

/// Resolves once `flag` is true (at once if it already is).
pub(crate) async fn stopped(flag: &mut watch::Receiver<bool>) {
    // A closed sender means its owner is gone: that is a stop too.
    let _ = flag.wait_for(|stop| *stop).await;
}
