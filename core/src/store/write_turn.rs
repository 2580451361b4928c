//! Whose turn it is to write, within this process.
//!
//! SQLite admits one writer at a time and makes the others poll with growing sleeps. Queueing
//! this process's writers here instead keeps waits short, and lets ingest go first: a client is
//! waiting for its acknowledgement, while an evaluation can run a few milliseconds later.
//!
//! Ingest goes first twice over: a waiting ingest writer is served before waiting background
//! writers, and for a moment after an ingest commit the turn is kept free for the next group,
//! so that under load groups commit back to back and evaluation fills the gaps. A background
//! writer that has waited long enough goes anyway, so evaluation always progresses.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Who is asking for the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// Acknowledgements wait on it: served before any `Background` writer that is waiting.
    Ingest,
    Background,
}

#[derive(Debug, Default)]
pub(crate) struct WriteTurn {
    state: Mutex<State>,
    released: Notify,
}

/// How long after an ingest commit the turn stays free for the next ingest group.
const INGEST_GRACE: Duration = Duration::from_micros(300);
/// The longest a background writer defers to ingest.
const MAX_DEFERRAL: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
struct State {
    held: bool,
    ingest_waiting: usize,
    ingest_released_at: Option<Instant>,
}

/// The turn, given back when dropped.
#[derive(Debug)]
pub(crate) struct Turn {
    owner: Arc<WriteTurn>,
    priority: Priority,
}

/// Counts an ingest writer as waiting until it gets the turn or gives up (a dropped future).
struct Waiting<'a> {
    turn: &'a WriteTurn,
    counted: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.turn.state().ingest_waiting -= 1;
            // Background writers may have been held back for us.
            self.turn.released.notify_waiters();
        }
    }
}

impl WriteTurn {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain fields, valid at every step: a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) async fn acquire(self: &Arc<Self>, priority: Priority) -> Turn {
        let asked = Instant::now();
        let mut waiting = Waiting { turn: self, counted: false };
        loop {
            // Registered before looking, so a release in between is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let mut grace_left = None;
            {
                let mut state = self.state();
                let my_turn = match priority {
                    Priority::Ingest => !state.held,
                    Priority::Background if asked.elapsed() >= MAX_DEFERRAL => !state.held,
                    Priority::Background => {
                        let since_ingest = state.ingest_released_at.map(|at| at.elapsed());
                        grace_left = since_ingest.filter(|e| *e < INGEST_GRACE).map(|e| INGEST_GRACE - e);
                        !state.held && state.ingest_waiting == 0 && grace_left.is_none()
                    }
                };
                if my_turn {
                    state.held = true;
                    if waiting.counted {
                        state.ingest_waiting -= 1;
                        waiting.counted = false;
                    }
                    return Turn { owner: self.clone(), priority };
                }
                if priority == Priority::Ingest && !waiting.counted {
                    state.ingest_waiting += 1;
                    waiting.counted = true;
                }
            }
            match grace_left {
                // Nobody will signal the end of the grace period: wake up for it.
                Some(left) => {
                    tokio::select! {
                        _ = released => {}
                        _ = tokio::time::sleep(left) => {}
                    }
                }
                None => released.await,
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut state = self.owner.state();
        state.held = false;
        if self.priority == Priority::Ingest {
            state.ingest_released_at = Some(Instant::now());
        }
        drop(state);
        self.owner.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_writer_at_a_time_and_ingest_first() {
        let turn = Arc::new(WriteTurn::default());
        let held = turn.acquire(Priority::Background).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let background = tokio::spawn({
            let (turn, order) = (turn.clone(), order.clone());
            async move {
                let _t = turn.acquire(Priority::Background).await;
                order.lock().unwrap().push("background");
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ingest = tokio::spawn({
            let (turn, order) = (turn.clone(), order.clone());
            async move {
                let _t = turn.acquire(Priority::Ingest).await;
                order.lock().unwrap().push("ingest");
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(order.lock().unwrap().is_empty(), "nobody writes while the turn is held");
        drop(held);
        ingest.await.unwrap();
        background.await.unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["ingest", "background"]);
    }

    #[tokio::test]
    async fn an_abandoned_ingest_wait_does_not_block_background_writers() {
        let turn = Arc::new(WriteTurn::default());
        let held = turn.acquire(Priority::Background).await;
        let abandoned = tokio::time::timeout(Duration::from_millis(10), turn.acquire(Priority::Ingest)).await;
        assert!(abandoned.is_err());
        drop(held);
        tokio::time::timeout(Duration::from_secs(1), turn.acquire(Priority::Background))
            .await
            .expect("background writer gets the turn");
    }

    #[tokio::test]
    async fn background_writers_wait_out_the_grace_but_never_starve() {
        let turn = Arc::new(WriteTurn::default());
        drop(turn.acquire(Priority::Ingest).await);
        let started = Instant::now();
        drop(turn.acquire(Priority::Background).await);
        assert!(started.elapsed() >= INGEST_GRACE, "kept free for the next ingest group");

        // Ingest back to back, forever: the background writer still gets in.
        let busy = tokio::spawn({
            let turn = turn.clone();
            async move {
                loop {
                    let t = turn.acquire(Priority::Ingest).await;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    drop(t);
                }
            }
        });
        tokio::time::timeout(MAX_DEFERRAL * 5, turn.acquire(Priority::Background))
            .await
            .expect("a background writer gets the turn within its deferral");
        busy.abort();
    }
}
