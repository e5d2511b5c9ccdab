//! Group commit: requests from many clients queue for one writer task, which stores everything queued so far
//! in one transaction and answers each request only after the commit. On SQLite (one writer, an fsync per
//! commit) this turns N transactions into one, and lets multi-row statements replace N single-row ones.
//! A batch (an offline scanner's queue) is one job with one reply, so its items share a commit without a
//! channel message and a oneshot each; a single item is a batch of one.

use crate::db::{Result, StoreError};
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

type Reply<R> = oneshot::Sender<Result<Vec<Result<R>>>>;

pub(crate) struct GroupCommit<T, R> {
    queue: mpsc::Sender<(Vec<T>, Reply<R>)>,
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Starts the writer. `flush` stores a group in one transaction and returns one result per item, in
    /// order; if it fails as a whole, every item of the group gets the error. A group takes jobs until it
    /// holds `max_group` items; a batch is never split, so the last one may take it past.
    pub fn spawn<F, Fut>(max_group: usize, flush: F) -> GroupCommit<T, R>
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Result<R>>>> + Send,
    {
        GroupCommit::spawn_then(max_group, flush, || {})
    }

    /// [`GroupCommit::spawn`], with `then` run on the writer after each group's answers are sent: work the
    /// commit made due but no request waits for, done while the clients it answered send their next requests.
    pub fn spawn_then<F, Fut, Then>(
        max_group: usize,
        mut flush: F,
        mut then: Then,
    ) -> GroupCommit<T, R>
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Result<R>>>> + Send,
        Then: FnMut() + Send + 'static,
    {
        let (queue, mut rx) = mpsc::channel::<(Vec<T>, Reply<R>)>(max_group * 4);
        let writer = async move {
            while let Some((mut items, reply)) = rx.recv().await {
                let mut replies = vec![(items.len(), reply)];
                while items.len() < max_group {
                    match rx.try_recv() {
                        Ok((batch, reply)) => {
                            replies.push((batch.len(), reply));
                            items.extend(batch);
                        }
                        Err(_) => break,
                    }
                }
                match flush(items).await {
                    Ok(results) => {
                        let mut results = results.into_iter();
                        for (n, reply) in replies {
                            let mine: Vec<Result<R>> = results.by_ref().take(n).collect();
                            let short =
                                || StoreError::Failed("the group commit lost results".into());
                            drop(reply.send(if mine.len() == n {
                                Ok(mine)
                            } else {
                                Err(short())
                            }));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "group commit failed");
                        replies
                            .into_iter()
                            .for_each(|(_, reply)| drop(reply.send(Err(e.for_each_waiter()))));
                    }
                }
                then();
            }
        };
        // The writer has a thread and a runtime of its own: each group is a chain of round trips to the
        // database, and on the server's runtime every step of the chain queued behind the requests being served
        // (a fifth of a millisecond a step under load, most of a scan group's time).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(rt) => {
                let spawned = std::thread::Builder::new()
                    .name("group-commit".into())
                    .spawn(move || rt.block_on(writer));
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "the group commit writer did not start");
                }
            }
            Err(e) => tracing::error!(error = %e, "the group commit writer did not start"),
        }
        GroupCommit { queue }
    }

    /// Queues `item` and waits until the group holding it is committed (or refused).
    pub async fn submit(&self, item: T) -> Result<R> {
        let mut results = self.submit_many(vec![item]).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::Failed("the group commit lost a result".into())))
    }

    /// Queues `items` as one job, stored in one group, and waits for one result per item, in order.
    pub async fn submit_many(&self, items: Vec<T>) -> Result<Vec<Result<R>>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Failed("the database writer has stopped".into());
        self.queue
            .send((items, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles each item, recording the size of every group it stores.
    fn doubler(
        max: usize,
    ) -> (
        GroupCommit<u32, u32>,
        std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
    ) {
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let writer = GroupCommit::spawn(max, move |items: Vec<u32>| {
            seen.lock().map(|mut s| s.push(items.len())).ok();
            async move { Ok(items.into_iter().map(|i| Ok(i * 2)).collect()) }
        });
        (writer, sizes)
    }

    #[tokio::test]
    async fn then_runs_after_the_groups_answers_are_sent() {
        let wait = std::time::Duration::from_secs(5);
        let (answered, answer_seen) = std::sync::mpsc::channel::<()>();
        let (ran, ran_after) = std::sync::mpsc::channel::<bool>();
        let writer = GroupCommit::spawn_then(
            4,
            |items: Vec<u32>| async move { Ok(items.into_iter().map(Ok).collect()) },
            // Had it run before the answer, the answer would never come while it waits for it.
            move || ran.send(answer_seen.recv_timeout(wait).is_ok()).unwrap(),
        );
        assert_eq!(writer.submit(7).await.ok(), Some(7));
        answered.send(()).unwrap();
        assert_eq!(ran_after.recv_timeout(wait), Ok(true));
    }

    #[tokio::test]
    async fn batches_and_single_items_each_get_their_own_results_in_order() {
        let (writer, sizes) = doubler(4);
        let writer = std::sync::Arc::new(writer);
        let tasks: Vec<_> = (0..20u32)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move {
                    if i.is_multiple_of(2) {
                        vec![w.submit(i).await.ok()]
                    } else {
                        let batch: Vec<u32> = (0..i).map(|k| i * 100 + k).collect();
                        w.submit_many(batch)
                            .await
                            .map(|r| r.into_iter().map(Result::ok).collect())
                            .unwrap_or_default()
                    }
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            let i = i as u32;
            let got = t.await.ok();
            let want: Vec<Option<u32>> = if i.is_multiple_of(2) {
                vec![Some(i * 2)]
            } else {
                (0..i).map(|k| Some((i * 100 + k) * 2)).collect()
            };
            assert_eq!(got, Some(want), "job {i}");
        }
        // A batch of 19 passes the group size of 4 whole: batches are never split.
        let sizes = sizes.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(sizes.iter().any(|&n| n >= 19), "{sizes:?}");
        assert_eq!(
            sizes.iter().sum::<usize>(),
            10 + (1..20).step_by(2).sum::<usize>()
        );
        assert_eq!(
            writer.submit_many(Vec::new()).await.map(|r| r.len()).ok(),
            Some(0)
        );
    }
}
