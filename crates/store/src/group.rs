//! Group commit: requests from many clients queue for one writer task, which stores everything queued so far
//! in one transaction and answers each request only after the commit. On SQLite (one writer, an fsync per
//! commit) this turns N transactions into one, and lets multi-row statements replace N single-row ones.

use crate::db::{Result, StoreError};
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

type Reply<R> = oneshot::Sender<Result<R>>;

pub(crate) struct GroupCommit<T, R> {
    queue: mpsc::Sender<(T, Reply<R>)>,
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Starts the writer. `flush` stores a group in one transaction and returns one result per item, in
    /// order; if it fails as a whole, every item of the group gets the error.
    pub fn spawn<F, Fut>(max_group: usize, flush: F) -> GroupCommit<T, R>
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Result<R>>>> + Send,
    {
        let (queue, mut rx) = mpsc::channel::<(T, Reply<R>)>(max_group * 4);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut group = vec![first];
                while group.len() < max_group {
                    match rx.try_recv() {
                        Ok(item) => group.push(item),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<T>, Vec<Reply<R>>) = group.into_iter().unzip();
                match flush(items).await {
                    Ok(results) => results
                        .into_iter()
                        .zip(replies)
                        .for_each(|(r, reply)| drop(reply.send(r))),
                    Err(e) => {
                        tracing::error!(error = %e, "group commit failed");
                        replies
                            .into_iter()
                            .for_each(|reply| drop(reply.send(Err(e.for_each_waiter()))));
                    }
                }
            }
        });
        GroupCommit { queue }
    }

    /// Queues `item` and waits until the group holding it is committed (or refused).
    pub async fn submit(&self, item: T) -> Result<R> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Failed("the database writer has stopped".into());
        self.queue
            .send((item, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
